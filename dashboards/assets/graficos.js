// Draws every chart of the page. The ECharts option comes from the
// observatory as JSON (never inline script), so names from sources are data,
// not code; this script and ECharts are the only scripts a page loads, both
// from the observatory itself.
(function () {
  'use strict';
  function draw(el) {
    var url = el.getAttribute('data-grafico');
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (option) {
        var chart = echarts.init(el, null, { renderer: 'canvas' });
        chart.setOption(option);
        window.addEventListener('resize', function () { chart.resize(); });
        el.setAttribute('data-estado', 'listo');
      })
      .catch(function () {
        el.textContent = 'No se pudo cargar el gráfico. Los mismos datos están en la tabla.';
        el.setAttribute('data-estado', 'error');
      });
  }
  document.querySelectorAll('[data-grafico]').forEach(draw);
})();
