package liquidation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// DecodeRequest parses one JSON request strictly (unknown fields are errors). On
// failure it returns a *FieldError whose Field is the JSON path of the offending value
// (e.g. "predial.avaluo", "ica.actividades[1].ingresos").
func DecodeRequest(data []byte) (*Request, error) {
	var req Request
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		if dec.More() {
			return nil, &FieldError{Message: "hay contenido después del objeto JSON (una solicitud por línea)"}
		}
		return &req, nil
	}
	return nil, diagnose(data, err)
}

var (
	decType     = reflect.TypeOf(decimal.Decimal{})
	nullDecType = reflect.TypeOf(decimal.NullDecimal{})
	dateType    = reflect.TypeOf(Date{})
)

func diagnose(data []byte, err error) *FieldError {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &FieldError{Message: fmt.Sprintf("JSON inválido en el carácter %d: %v", syn.Offset, syn)}
	}
	var generic any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if e := d.Decode(&generic); e != nil {
		return &FieldError{Message: "JSON inválido: " + e.Error()}
	}
	if _, ok := generic.(map[string]any); !ok {
		return &FieldError{Message: "cada línea debe ser un objeto JSON"}
	}
	if fe := walk(generic, reflect.TypeOf(Request{}), ""); fe != nil {
		return fe
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &FieldError{Field: te.Field, Message: "tipo de dato inválido: se esperaba " + te.Type.String()}
	}
	return &FieldError{Message: err.Error()}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func walk(v any, t reflect.Type, path string) *FieldError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil
	}
	switch t {
	case decType, nullDecType:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = string(x)
		case string:
			s = x
		default:
			return &FieldError{Field: path, Message: "se esperaba un valor en pesos (número o texto decimal)"}
		}
		if _, err := decimal.NewFromString(s); err != nil {
			return &FieldError{Field: path, Message: fmt.Sprintf("%q no es un número decimal válido", s)}
		}
		return nil
	case dateType:
		s, ok := v.(string)
		if !ok {
			return &FieldError{Field: path, Message: "se esperaba una fecha AAAA-MM-DD"}
		}
		if _, err := ParseDate(s); err != nil {
			return &FieldError{Field: path, Message: err.Error()}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return &FieldError{Field: path, Message: "se esperaba un objeto"}
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f
		}
		for k, val := range m {
			f, ok := fields[k]
			if !ok {
				return &FieldError{Field: join(path, k), Message: "campo desconocido"}
			}
			if fe := walk(val, f.Type, join(path, k)); fe != nil {
				return fe
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return &FieldError{Field: path, Message: "se esperaba una lista"}
		}
		for i, x := range arr {
			if fe := walk(x, t.Elem(), path+"["+strconv.Itoa(i)+"]"); fe != nil {
				return fe
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return &FieldError{Field: path, Message: "se esperaba un objeto"}
		}
		for k, x := range m {
			if fe := walk(x, t.Elem(), join(path, k)); fe != nil {
				return fe
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return &FieldError{Field: path, Message: "se esperaba texto"}
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return &FieldError{Field: path, Message: "se esperaba true o false"}
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			return &FieldError{Field: path, Message: "se esperaba un número entero"}
		}
		if _, err := strconv.Atoi(string(n)); err != nil {
			return &FieldError{Field: path, Message: fmt.Sprintf("%s no es un número entero", n)}
		}
	}
	return nil
}
