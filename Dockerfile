# The observatory's binary for the server deployment (docker-compose.yml).
# In server mode the binary never loads libchdb.so, so the image does not
# carry it; to run the embedded engine in a container, add the library and
# set OBSERVATORIO_CHDB_LIB.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/observatory ./cmd/observatory

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 observatorio
COPY --from=build /out/observatory /usr/local/bin/observatory
USER observatorio
EXPOSE 8080
ENTRYPOINT ["observatory"]
CMD ["serve"]
