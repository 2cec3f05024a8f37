// The observatory's own script: draws every chart of the page and runs the
// municipality search. Chart options come from the observatory as JSON
// (application/json, never inline script), so names from sources are data,
// never code: nothing here evaluates strings. The "observatorio" block of an
// option names value formats; this script turns them into Spanish (es-CO)
// formatters, the same as the server's tables: $ 1.234.567, 6.263, 87,3 %.
(function () {
  'use strict';

  function isNum(v) { return typeof v === 'number' && isFinite(v); }

  // group("1234567") === "1.234.567"
  function group(digits) {
    var out = '';
    for (var i = digits.length; i > 0; i -= 3) {
      out = digits.slice(Math.max(0, i - 3), i) + (out ? '.' + out : '');
    }
    return out;
  }

  // fixed(1234.5, 1) === "1.234,5"; trim drops ",0".
  function fixed(v, decimals, trim) {
    var s = Math.abs(v).toFixed(decimals).split('.');
    var frac = s[1] || '';
    if (trim) { frac = frac.replace(/0+$/, ''); }
    return (v < 0 ? '-' : '') + group(s[0]) + (frac ? ',' + frac : '');
  }

  var full = {
    pesos: function (v) {
      if (!isNum(v)) { return '—'; }
      var cents = Math.round(Math.abs(v) * 100) % 100;
      return (v < 0 ? '-' : '') + '$ ' + fixed(Math.abs(v), cents ? 2 : 0);
    },
    numero: function (v) { return isNum(v) ? fixed(v, Number.isInteger(v) ? 0 : 1) : '—'; },
    porcentaje: function (v) { return isNum(v) ? fixed(v, 1) + ' %' : '—'; }
  };

  var compact = {
    pesos: function (v) {
      var a = Math.abs(v);
      if (a >= 1e12) { return '$ ' + fixed(v / 1e12, 1, true) + ' bill.'; }
      if (a >= 1e9) { return '$ ' + fixed(v / 1e9, 1, true) + ' mil M'; }
      if (a >= 1e6) { return '$ ' + fixed(v / 1e6, 1, true) + ' M'; }
      return '$ ' + fixed(v, 0);
    },
    numero: function (v) {
      return Math.abs(v) >= 1e6 ? fixed(v / 1e6, 1, true) + ' M' : fixed(v, Number.isInteger(v) ? 0 : 1);
    },
    porcentaje: function (v) { return fixed(v, 0) + ' %'; }
  };

  // prepare applies the formats named in option.observatorio and removes
  // that block (ECharts does not know it).
  function prepare(option) {
    var side = option.observatorio || {};
    delete option.observatorio;
    var axes = side.ejes || {};
    Object.keys(axes).forEach(function (key) {
      var list = [].concat(option[key] || []);
      list.forEach(function (axis, i) {
        var f = compact[axes[key][i]];
        if (f) {
          axis.axisLabel = axis.axisLabel || {};
          axis.axisLabel.formatter = f;
        }
      });
    });
    (option.series || []).forEach(function (s, i) {
      var f = full[(side.series || [])[i]];
      if (f) {
        s.tooltip = s.tooltip || {};
        s.tooltip.valueFormatter = f;
      }
      var l = full[(side.etiquetas || [])[i]];
      if (l && s.label) {
        s.label.formatter = function (p) { return isNum(p.value) && p.value !== 0 ? l(p.value) : ''; };
      }
    });
    return side;
  }

  var drawn = [];

  function draw(el) {
    fetch(el.getAttribute('data-grafico'), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (option) {
        prepare(option);
        var chart = echarts.init(el, null, { renderer: 'canvas' });
        chart.setOption(option);
        drawn.push(chart);
        var button = document.querySelector('[data-guardar="' + el.id + '"]');
        if (button) { button.disabled = false; }
        el.setAttribute('data-estado', 'listo');
      })
      .catch(function () {
        el.textContent = 'No se pudo cargar el gráfico. Los mismos datos están en la tabla.';
        el.setAttribute('data-estado', 'error');
      });
  }

  // Saving adds the title and the source to the image, then restores the
  // chart as it was.
  function save(button) {
    var el = document.getElementById(button.getAttribute('data-guardar'));
    var chart = el && window.echarts && echarts.getInstanceByDom(el);
    if (!chart) { return; }
    var title = (chart.getOption().title || [{}])[0] || {};
    var sub = title.subtext || '';
    chart.setOption({ title: { show: true, subtext: (sub ? sub + ' · ' : '') + 'Fuente: Observatorio de Transparencia Tributaria Municipal' }, grid: { top: 72 } });
    var url = chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#ffffff' });
    chart.setOption({ title: { show: false, subtext: sub }, grid: { top: 40 } });
    var a = document.createElement('a');
    a.href = url;
    a.download = button.getAttribute('data-nombre') || 'grafico.png';
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  if (window.echarts) {
    document.querySelectorAll('[data-grafico]').forEach(draw);
    var pending;
    window.addEventListener('resize', function () {
      clearTimeout(pending);
      pending = setTimeout(function () { drawn.forEach(function (c) { c.resize(); }); }, 100);
    });
  }
  document.querySelectorAll('[data-guardar]').forEach(function (b) {
    b.addEventListener('click', function () { save(b); });
  });

  // Municipality search: suggestions from the observatory as the user types.
  document.querySelectorAll('input[data-buscar]').forEach(function (input) {
    var list = document.getElementById(input.getAttribute('list'));
    var timer, last = '';
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) { return; }
        last = q;
        fetch(input.getAttribute('data-buscar') + '?q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            while (list.firstChild) { list.removeChild(list.firstChild); }
            items.forEach(function (it) {
              var o = document.createElement('option');
              o.value = it.etiqueta;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });

  // Embed code with this site's address.
  function attr(s) {
    return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }
  document.querySelectorAll('textarea[data-insertar]').forEach(function (t) {
    var height = (/height="(\d+)"/.exec(t.value) || [0, '560'])[1];
    t.value = '<iframe src="' + attr(location.origin + t.getAttribute('data-insertar')) + '" title="' + attr(t.getAttribute('data-titulo')) +
      '" width="100%" height="' + height + '" loading="lazy"></iframe>';
    t.addEventListener('focus', function () { t.select(); });
  });
})();
