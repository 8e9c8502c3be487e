// LayersimPlots draws the charts of package plots: it reads each chart's JSON
// payload from the page and hands it to ECharts (and ECharts GL for the 3D
// projector). It is loaded once per page; every chart fragment calls mount.
window.LayersimPlots = (function () {
  'use strict';

  var SYMBOLS = ['circle', 'triangle', 'rect', 'diamond', 'pin', 'arrow'];
  var GLYPHS = ['\u25CF', '\u25B2', '\u25A0', '\u25C6', '\u2B22', '\u27A4'];
  var VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || typeof v !== 'number' || !isFinite(v)) return '\u2014';
    return v.toFixed(digits === undefined ? 4 : digits);
  }

  function mean(a) {
    var s = 0;
    for (var i = 0; i < a.length; i++) s += a[i];
    return a.length ? s / a.length : NaN;
  }

  function median(a) {
    if (!a.length) return NaN;
    var s = a.slice().sort(function (x, y) { return x - y; });
    var h = s.length >> 1;
    return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
  }

  // pearson returns the correlation of x and y, or NaN when a side is constant.
  function pearson(x, y) {
    var n = x.length, mx = mean(x), my = mean(y), sxy = 0, sxx = 0, syy = 0;
    for (var i = 0; i < n; i++) {
      var dx = x[i] - mx, dy = y[i] - my;
      sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
    }
    if (!(sxx > 0) || !(syy > 0)) return NaN;
    return sxy / Math.sqrt(sxx * syy);
  }

  function hexToRGB(c) {
    var h = c.replace('#', '');
    return [parseInt(h.substr(0, 2), 16), parseInt(h.substr(2, 2), 16), parseInt(h.substr(4, 2), 16)];
  }

  function rgbToHex(r) {
    return '#' + r.map(function (v) {
      var s = Math.max(0, Math.min(255, Math.round(v))).toString(16);
      return s.length < 2 ? '0' + s : s;
    }).join('');
  }

  // mix blends colour a towards b by t in [0, 1].
  function mix(a, b, t) {
    var x = hexToRGB(a), y = hexToRGB(b);
    return rgbToHex([0, 1, 2].map(function (i) { return x[i] + (y[i] - x[i]) * t; }));
  }

  function ramp(t) {
    t = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    var i = Math.min(Math.floor(t), VIRIDIS.length - 2);
    return mix(VIRIDIS[i], VIRIDIS[i + 1], t - i);
  }

  // SHADES are the signed amounts (negative: towards black, positive:
  // towards white) by which languages 6 to 41 shade their model's colour,
  // one per round of the six symbols: language li has symbol li % 6 and, for
  // li >= 6, shade SHADES[floor(li / 6) - 1]. The amounts differ by at least
  // 0.25 from one another and by at least 0.1 from the shade of the first
  // language with the same symbol, so that no symbol and shade repeat before
  // 42 languages.
  var SHADES = [-0.35, 0.2, -0.7, 0.45, -0.1, 0.75];

  // langColor is the colour of a model's points in its li-th language: the
  // model's colour, darker or lighter for each further language.
  function langColor(base, li) {
    if (li >= SYMBOLS.length) {
      var a = SHADES[(Math.floor(li / SYMBOLS.length) - 1) % SHADES.length];
      return mix(base, a < 0 ? '#000000' : '#ffffff', Math.abs(a));
    }
    return li === 0 ? base : mix(base, li % 2 ? '#000000' : '#ffffff', Math.min(0.2 + 0.15 * (li - 1), 0.6));
  }

  // lab returns the CIELAB coordinates (D65 white) of an sRGB colour given
  // as three values in [0, 255].
  function lab(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var xyz = [
      (0.4124564 * c[0] + 0.3575761 * c[1] + 0.1804375 * c[2]) / 0.95047,
      0.2126729 * c[0] + 0.7151522 * c[1] + 0.0721750 * c[2],
      (0.0193339 * c[0] + 0.1191920 * c[1] + 0.9503041 * c[2]) / 1.08883
    ].map(function (t) { return t > 216 / 24389 ? Math.cbrt(t) : t * 24389 / 27 / 116 + 16 / 116; });
    return [116 * xyz[1] - 16, 500 * (xyz[0] - xyz[1]), 200 * (xyz[1] - xyz[2])];
  }

  function deltaE(a, b) {
    return Math.sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
  }

  // languagePalette returns n colours, one per language, far apart in
  // CIELAB. They are picked by greedy maximin, as Glasbey et al. (2007,
  // "Colour displays for categorical images") build categorical palettes:
  // the candidates are a grid of 24 levels per sRGB channel, those of
  // lightness 35 to 85 (visible on the white page, clear of the near-black
  // hover colour); each pick is the candidate farthest (ΔE*ab) from white,
  // from #111111 and from every colour picked before. Evenly spaced hues at
  // alternating lightness were the other choice: where the sRGB gamut
  // narrows (dark yellows, light blues) their chroma collapses, and 42 of
  // them are no more than ΔE ≈ 12 apart, where maximin keeps ΔE ≈ 27 (and
  // ≈ 48 at 12 languages). The sequence does not depend on n: adding
  // languages leaves the first ones' colours as they were.
  var paletteCache = [];
  function languagePalette(n) {
    if (paletteCache.length >= n) return paletteCache.slice(0, n);
    var cand = [], rgb = [];
    for (var r = 0; r < 24; r++) {
      for (var g = 0; g < 24; g++) {
        for (var b = 0; b < 24; b++) {
          var c = [r, g, b].map(function (v) { return Math.round(v * 255 / 23); }), l = lab(c);
          if (l[0] >= 35 && l[0] <= 85) { cand.push(l); rgb.push(c); }
        }
      }
    }
    var white = lab([255, 255, 255]), dark = lab([17, 17, 17]);
    var far = cand.map(function (l) { return Math.min(deltaE(l, white), deltaE(l, dark)); });
    var out = [];
    while (out.length < n) {
      var best = 0;
      for (var i = 1; i < cand.length; i++) if (far[i] > far[best]) best = i;
      out.push(rgbToHex(rgb[best]));
      var pick = cand[best];
      for (var j = 0; j < cand.length; j++) far[j] = Math.min(far[j], deltaE(cand[j], pick));
    }
    paletteCache = out;
    return out.slice();
  }

  function fail(el, err) {
    el.setAttribute('data-layersim-state', 'error');
    var p = document.createElement('pre');
    p.className = 'layersim-error';
    p.textContent = 'chart failed: ' + (err && err.message ? err.message : err);
    el.appendChild(p);
    if (window.console) console.error(err);
  }

  // whenSized calls fn once the element has a width (a notebook may insert
  // output before laying it out).
  function whenSized(el, fn) {
    if (el.clientWidth > 0) { fn(); return; }
    if (window.ResizeObserver) {
      var ro = new ResizeObserver(function () {
        if (el.clientWidth > 0) { ro.disconnect(); fn(); }
      });
      ro.observe(el);
      return;
    }
    var tries = 0;
    (function poll() {
      if (el.clientWidth > 0) fn();
      else if (++tries < 600) setTimeout(poll, 100);
    })();
  }

  function keepSized(el, chart) {
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    } else {
      window.addEventListener('resize', function () { chart.resize(); });
    }
  }

  function prepare(el, opts) {
    el.setAttribute('data-layersim-state', 'pending');
    var payload;
    try {
      payload = JSON.parse(el.querySelector('script.layersim-data').textContent);
    } catch (e) { fail(el, e); return; }
    var run = function () {
      var canvas = el.querySelector('.layersim-canvas');
      whenSized(canvas, function () {
        try {
          if (!window.echarts) throw new Error('ECharts is not loaded');
          var handle = payload.kind === 'projector' ? projector(el, canvas, payload.data) : plain(canvas, payload);
          el.layersim = handle;
          el.setAttribute('data-layersim-state', 'drawn');
        } catch (e) { fail(el, e); }
      });
    };
    if (opts.lazy && window.IntersectionObserver) {
      var io = new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) {
          if (entries[i].isIntersecting) { io.disconnect(); run(); return; }
        }
      }, {rootMargin: '300px'});
      io.observe(el);
    } else {
      run();
    }
  }

  // mount draws the chart fragment with the given id: the one whose script is
  // running, or else every fragment with that id not drawn yet.
  function mount(id, opts) {
    opts = opts || {};
    var s = document.currentScript;
    var host = s && s.parentNode;
    if (host && host.getAttribute && host.getAttribute('data-layersim-chart') === id && !host.hasAttribute('data-layersim-state')) {
      prepare(host, opts);
      return;
    }
    var tries = 0;
    (function find() {
      var els = document.querySelectorAll('[data-layersim-chart="' + id + '"]'), n = 0;
      for (var i = 0; i < els.length; i++) {
        if (!els[i].hasAttribute('data-layersim-state')) { prepare(els[i], opts); n++; }
      }
      if (n === 0 && els.length === 0 && ++tries < 100) setTimeout(find, 50);
    })();
  }

  // plain draws an option built by go-echarts, adding what JSON cannot carry:
  // tooltip formatters.
  function plain(canvas, payload) {
    var option = payload.option, meta = payload.meta || {};
    if (payload.kind === 'heatmap') {
      option.tooltip = option.tooltip || {};
      option.tooltip.formatter = function (p) {
        var v = p.value;
        return esc(meta.y_name) + ' <b>' + esc(meta.y_labels[v[1]]) + '</b> \u00d7 ' +
          esc(meta.x_name) + ' <b>' + esc(meta.x_labels[v[0]]) + '</b><br>' +
          esc(meta.metric) + ' = <b>' + fmt(v[2]) + '</b>';
      };
      if (meta.cell_labels && option.series && option.series[0]) {
        option.series[0].label = {show: true, fontSize: 9, formatter: function (p) { return fmt(p.value[2], 2); }};
      }
    } else if (meta.edges) {
      option.tooltip = option.tooltip || {};
      option.tooltip.formatter = function (ps) {
        var list = [].concat(ps), i = list[0].dataIndex, total = 0;
        var s = 'distance ' + fmt(meta.edges[i]) + ' to ' + fmt(meta.edges[i + 1]) + '<br>';
        list.forEach(function (p) {
          total += p.value || 0;
          s += p.marker + esc(p.seriesName) + ': <b>' + p.value + '</b><br>';
        });
        return list.length > 1 ? s + 'all: <b>' + total + '</b>' : s;
      };
    } else {
      option.tooltip = option.tooltip || {};
      option.tooltip.valueFormatter = function (v) { return fmt(Array.isArray(v) ? v[1] : v); };
    }
    var chart = echarts.init(canvas, null, {renderer: 'canvas'});
    chart.setOption(option);
    // A heatmap with a layer slider: the title names what the slider shows.
    var title = canvas.parentNode.querySelector('.layersim-title');
    if (meta.titles && title) {
      chart.on('timelinechanged', function (e) {
        var t = meta.titles[e.currentIndex];
        if (t !== undefined) title.textContent = t;
      });
    }
    keepSized(canvas, chart);
    return {chart: chart};
  }

  // projector draws the joint 3D embedding with its controls and live panel.
  function projector(el, canvas, d) {
    var models = d.models, langs = d.languages, pts = d.points, pairs = d.pairs, axis = d.axis;
    // The study's measure, whose values the pairs carry (q.cka): CKA or the
    // measure that took its place.
    var measure = d.measure || 'CKA';
    var st = {
      models: models.map(function () { return true; }),
      langs: langs.map(function () { return true; }),
      links: true, depth: true,
      // Above six languages, symbols repeat and only shades tell languages
      // apart in the model × language mode: colour by language instead.
      color: langs.length > SYMBOLS.length ? 'lang' : 'model-lang'
    };
    var langPal = languagePalette(langs.length);
    var blocks = models.map(function () { return langs.map(function () { return []; }); });
    pts.forEach(function (p, i) { blocks[p.m][p.l].push(i); });
    var pairsOf = pts.map(function () { return []; });
    pairs.forEach(function (q, qi) { pairsOf[q.a].push(qi); pairsOf[q.b].push(qi); });

    // Axis ranges of all points, so that toggling does not rescale the box,
    // and box sides proportional to them, so that distances are not distorted.
    var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    pts.forEach(function (p) {
      for (var k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], p.xyz[k]); hi[k] = Math.max(hi[k], p.xyz[k]); }
    });
    // A page of several projectors gives them one box (d.bounds), so that
    // they share one scale.
    if (d.bounds) {
      for (var k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], d.bounds.min[k]); hi[k] = Math.max(hi[k], d.bounds.max[k]); }
    }
    // Nice axis ends: multiples of a 1-2-5 step, about five steps on the
    // longest axis and proportionally fewer on shorter ones (their boxes
    // are shorter too).
    var rawMax = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], 1e-9);
    var step = [0, 1, 2].map(function (k) {
      var len = Math.max(hi[k] - lo[k], 1e-9), ticks = Math.max(2, Math.round(5 * len / rawMax));
      var raw = len / ticks, p = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / p;
      return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * p;
    });
    var amin = [0, 1, 2].map(function (k) { return Math.floor(lo[k] / step[k] - 1e-9) * step[k]; });
    var amax = [0, 1, 2].map(function (k) { return Math.ceil(hi[k] / step[k] + 1e-9) * step[k]; });
    var span = [0, 1, 2].map(function (k) { return amax[k] - amin[k]; });
    var big = Math.max(span[0], span[1], span[2]);
    var box = span.map(function (s) { return Math.max(100 * s / big, 25); });
    var diag = Math.sqrt(box[0] * box[0] + box[1] * box[1] + box[2] * box[2]);
    var view = {projection: 'perspective', alpha: 20, beta: 40, distance: Math.round(1.3 * diag), center: [0, 0, 0], rotateSensitivity: 1.5, zoomSensitivity: 1.2, panSensitivity: 1, animation: false};

    function color(i) {
      var p = pts[i];
      return st.color === 'depth' ? ramp(p.depth) : st.color === 'lang' ? langPal[p.l] : langColor(models[p.m].color, p.l);
    }
    // symbol marks the language, or the model when colours mark languages.
    function symbol(mi, li) { return SYMBOLS[(st.color === 'lang' ? mi : li) % SYMBOLS.length]; }
    function size(i) { return 6 + 12 * pts[i].depth; }

    function visiblePoint(i) { return st.models[pts[i].m] && st.langs[pts[i].l]; }
    function visiblePairs() {
      var out = [];
      pairs.forEach(function (q, qi) {
        if (st.models[q.m] && st.langs[q.la] && st.langs[q.lb]) out.push(qi);
      });
      return out;
    }

    function axisName(k) {
      var e = d.explained && d.explained[k];
      return 'dim ' + (k + 1) + (typeof e === 'number' ? ' \u00b7 ' + (100 * e).toFixed(1) + '%' : '');
    }

    var hlPoint = -1;

    function series() {
      var out = [];
      models.forEach(function (m, mi) {
        if (!st.models[mi]) return;
        langs.forEach(function (l, li) {
          var idx = blocks[mi][li];
          if (!st.langs[li] || !idx.length) return;
          out.push({
            id: 'p:' + mi + ':' + li, name: m.id + ' \u00b7 ' + l, type: 'scatter3D',
            symbol: symbol(mi, li),
            symbolSize: function (v, p) { return size(idx[p.dataIndex]); },
            data: idx.map(function (i) { return {value: pts[i].xyz, itemStyle: {color: color(i)}}; }),
            itemStyle: {opacity: 0.95, borderWidth: 0.6, borderColor: 'rgba(20,20,20,0.55)'},
            emphasis: {itemStyle: {color: '#111111'}, label: {show: false}}
          });
          if (st.depth && idx.length > 1) {
            out.push({
              id: 'd:' + mi + ':' + li, type: 'line3D', silent: true, tooltip: {show: false},
              data: idx.map(function (i) { return pts[i].xyz; }),
              lineStyle: {color: st.color === 'lang' ? langPal[li] : langColor(m.color, li), width: 2, opacity: 0.55}
            });
          }
        });
      });
      if (st.links) {
        visiblePairs().forEach(function (qi) {
          var q = pairs[qi];
          out.push({
            id: 'k:' + qi, type: 'line3D', silent: true, tooltip: {show: false},
            data: [pts[q.a].xyz, pts[q.b].xyz],
            lineStyle: {color: st.color === 'lang' ? '#888888' : models[q.m].color, width: 1, opacity: 0.45}
          });
        });
      }
      // The hovered point's partners: rings around them, a bold link to them.
      var partners = [], links = [];
      if (hlPoint >= 0) {
        pairsOf[hlPoint].forEach(function (qi) {
          var q = pairs[qi], other = q.a === hlPoint ? q.b : q.a;
          if (!visiblePoint(other)) return;
          partners.push({value: pts[other].xyz});
          links.push([pts[hlPoint].xyz, pts[other].xyz]);
        });
      }
      out.push({
        id: 'hl', type: 'scatter3D', silent: true, tooltip: {show: false}, symbol: 'circle', symbolSize: 24,
        data: partners, itemStyle: {color: 'rgba(255,215,0,0.35)', borderWidth: 2.5, borderColor: '#111111', opacity: 1}
      });
      links.forEach(function (c, j) {
        out.push({id: 'hl:' + j, type: 'line3D', silent: true, tooltip: {show: false}, data: c, lineStyle: {color: '#111111', width: 3, opacity: 1}});
      });
      return out;
    }

    function option() {
      var ax = function (k) {
        var digits = Math.max(0, -Math.floor(Math.log10(step[k])));
        return {name: axisName(k), type: 'value', min: amin[k], max: amax[k], interval: step[k],
          // ECharts GL sizes its text textures by the line height: without
          // one, the labels come out cut and squashed.
          nameGap: 18, nameTextStyle: {fontSize: 13, lineHeight: 20, color: '#333'},
          axisLabel: {fontSize: 12, lineHeight: 18, color: '#444', formatter: function (v) { return (+v).toFixed(digits); }}};
      };
      return {
        animation: false,
        tooltip: {show: true, trigger: 'item', formatter: tooltipFor},
        xAxis3D: ax(0), yAxis3D: ax(1), zAxis3D: ax(2),
        grid3D: {boxWidth: box[0], boxDepth: box[1], boxHeight: box[2], viewControl: view,
          axisPointer: {show: false}, light: {main: {intensity: 1.1}, ambient: {intensity: 0.4}}},
        series: series()
      };
    }

    function pointIndex(seriesId, dataIndex) {
      var f = String(seriesId).split(':');
      if (f[0] !== 'p') return -1;
      var idx = blocks[+f[1]][+f[2]];
      return idx[dataIndex] === undefined ? -1 : idx[dataIndex];
    }

    // tooltip describes point i: model, language, layer, coordinates and its
    // pairs' value of the study's measure and 3D distance.
    function tooltip(i) {
      var p = pts[i], m = models[p.m];
      var s = '<b>' + esc(m.id) + '</b> \u00b7 ' + esc(langs[p.l]) + ' \u00b7 layer ' + p.layer +
        ' <span style="color:#777">(depth ' + fmt(p.depth, 2) + ')</span><br>' +
        'x ' + fmt(p.xyz[0]) + ', y ' + fmt(p.xyz[1]) + ', z ' + fmt(p.xyz[2]);
      pairsOf[i].forEach(function (qi) {
        var q = pairs[qi], other = q.a === i ? q.lb : q.la;
        s += '<br>pair with ' + esc(langs[other]) + ': ' + esc(measure) + ' <b>' + fmt(q.cka) + '</b>, distance <b>' + fmt(q.d3) + '</b>';
      });
      return s;
    }
    function tooltipFor(p) {
      var i = pointIndex(p.seriesId, p.dataIndex);
      return i < 0 ? '' : tooltip(i);
    }

    // The controls and the panel around the canvas.
    var bar = document.createElement('div');
    bar.className = 'layersim-controls';
    var body = document.createElement('div');
    body.className = 'layersim-body';
    var panel = document.createElement('div');
    panel.className = 'layersim-panel';
    el.insertBefore(bar, canvas);
    el.insertBefore(body, canvas);
    body.appendChild(canvas);
    body.appendChild(panel);

    function chip(label, swatch, attr, value, on, toggle) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'layersim-chip';
      b.setAttribute(attr, value);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.innerHTML = swatch + ' ' + esc(label);
      b.addEventListener('click', function () {
        var now = toggle();
        b.setAttribute('aria-pressed', now ? 'true' : 'false');
        update();
      });
      return b;
    }
    function group(title) {
      var g = document.createElement('span');
      g.className = 'layersim-group';
      g.innerHTML = '<span class="layersim-group-title">' + esc(title) + '</span>';
      bar.appendChild(g);
      return g;
    }
    // Each chip carries the keys of every colour mode; keys() shows those
    // of the mode chosen: a model's colour, or its symbol when colours mark
    // languages; a language's symbol, or its colour.
    var gm = group('models');
    models.forEach(function (m, mi) {
      gm.appendChild(chip(m.id, '<span class="layersim-swatch" data-key="colour" style="background:' + esc(m.color) + '"></span>' +
        '<span class="layersim-glyph" data-key="symbol">' + GLYPHS[mi % GLYPHS.length] + '</span>', 'data-model', m.id, true,
        function () { st.models[mi] = !st.models[mi]; return st.models[mi]; }));
    });
    var gl = group('languages');
    langs.forEach(function (l, li) {
      gl.appendChild(chip(l, '<span class="layersim-glyph" data-key="symbol">' + GLYPHS[li % GLYPHS.length] + '</span>' +
        '<span class="layersim-swatch" data-key="colour" style="background:' + langPal[li] + '"></span>', 'data-lang', l, true,
        function () { st.langs[li] = !st.langs[li]; return st.langs[li]; }));
    });
    function keys() {
      var byLang = st.color === 'lang';
      gm.querySelectorAll('[data-key]').forEach(function (k) {
        k.style.display = (k.getAttribute('data-key') === 'symbol') === byLang ? '' : 'none';
      });
      gl.querySelectorAll('[data-key]').forEach(function (k) {
        k.style.display = (k.getAttribute('data-key') === 'colour') === byLang ? '' : 'none';
      });
    }
    keys();
    var gs = group('show');
    gs.appendChild(chip('pair links', '', 'data-toggle', 'links', true, function () { st.links = !st.links; return st.links; }));
    gs.appendChild(chip('depth lines', '', 'data-toggle', 'depth', true, function () { st.depth = !st.depth; return st.depth; }));
    var sel = document.createElement('select');
    sel.className = 'layersim-select';
    sel.setAttribute('data-control', 'color');
    sel.innerHTML = '<option value="model-lang">colour: model \u00d7 language</option><option value="lang">colour: language</option>' +
      '<option value="depth">colour: layer depth</option>';
    sel.value = st.color;
    sel.addEventListener('change', function () { st.color = sel.value; keys(); update(); });
    gs.appendChild(sel);
    var reset = document.createElement('button');
    reset.type = 'button';
    reset.className = 'layersim-button';
    reset.setAttribute('data-action', 'reset');
    reset.textContent = 'Reset view';
    reset.addEventListener('click', function () {
      chart.setOption({grid3D: {viewControl: view}});
    });
    gs.appendChild(reset);

    // stats returns the statistics over what is visible.
    function stats() {
      var vis = visiblePairs();
      var ck = vis.map(function (qi) { return pairs[qi].cka; });
      var ds = vis.map(function (qi) { return pairs[qi].d3; });
      var out = {pairs: vis.length, cka_mean: mean(ck), cka_median: median(ck), d3_mean: mean(ds), d3_median: median(ds), axis_corr: NaN, points: 0};
      var x = [], y = [];
      pts.forEach(function (p, i) {
        if (!visiblePoint(i)) return;
        out.points++;
        if (axis) { x.push(p.xyz[axis.component]); y.push(p.l === axis.label_lang ? 1 : -1); }
      });
      if (axis && x.length > 1) out.axis_corr = pearson(x, y);
      return out;
    }

    function row(key, label, v, digits) {
      var shown = typeof v === 'number' && digits !== undefined ? fmt(v, digits) : String(v);
      var raw = typeof v === 'number' && isFinite(v) ? ' data-value="' + v + '"' : '';
      return '<tr><th>' + label + '</th><td data-stat="' + key + '"' + raw + '>' + shown + '</td></tr>';
    }

    function renderPanel() {
      var s = stats();
      var h = '<div class="layersim-panel-title">visible</div><table>' +
        row('points', 'points', s.points) +
        row('pairs', 'layer pairs', s.pairs) +
        row('cka_mean', 'pair ' + esc(measure) + ' mean', s.cka_mean, 4) +
        row('cka_median', 'pair ' + esc(measure) + ' median', s.cka_median, 4) +
        row('d3_mean', 'distance mean', s.d3_mean, 4) +
        row('d3_median', 'distance median', s.d3_median, 4);
      if (axis) {
        h += row('axis_corr', 'language axis r (dim ' + (axis.component + 1) + ', +1 = ' + esc(langs[axis.label_lang]) + ')', s.axis_corr, 4);
      }
      h += '</table>';
      if (!axis) h += '<div class="layersim-note">No language axis (it needs exactly two languages).</div>';
      h += '<div class="layersim-note">Marker size grows with layer depth; ' +
        (st.color === 'lang' ? 'colours mark languages, symbols models; ' : 'symbols mark languages; ') +
        'thin lines join layer k across languages, ' +
        (st.color === 'lang' ? 'lines of the language\'s colour' : 'lines of the model\'s colour') + ' follow its layers in order. ' +
        'Drag to rotate, scroll to zoom, right-drag to pan; hover a point for its pair.</div>';
      if (st.color === 'depth') {
        h += '<div class="layersim-ramp" style="background:linear-gradient(to right,' + VIRIDIS.join(',') + ')"></div>' +
          '<div class="layersim-ramp-labels"><span>first layer</span><span>last layer</span></div>';
      }
      if (d.distance) h += '<div class="layersim-note">' + esc(measure) + ' is a distance (radians, 0 for the same shape): lower is closer.</div>';
      if (d.method) h += '<div class="layersim-note">embedding: ' + esc(d.method) + '</div>';
      panel.innerHTML = h;
    }

    var chart = echarts.init(canvas, null, {renderer: 'canvas'});
    function update() {
      chart.setOption({series: series()}, {replaceMerge: ['series']});
      renderPanel();
    }
    function highlight(i) {
      if (i === hlPoint) return;
      hlPoint = i;
      chart.setOption({series: series()}, {replaceMerge: ['series']});
    }
    chart.setOption(option());
    renderPanel();
    // Hover: ECharts GL reports a point under the mouse with mouseover and
    // mousemove, but sends no mouseout when the mouse leaves it for empty
    // space (only when it reaches another point). So every mouse move is
    // checked once its events have all run (a microtask later): when none
    // of them named a point, the highlight is cleared. Leaving the chart
    // (globalout) clears it too.
    // Redrawing the series makes ECharts show the tooltip again at the
    // mouse by zrender's picking, which does not see ECharts GL's points:
    // the tooltip would vanish while the mouse rests on a point it has just
    // reached. So once ECharts has tried (a task later), the point's
    // tooltip is shown again where the mouse is.
    var onPoint = false, checking = false, mouseXY = null;
    function hover(p) {
      var i = pointIndex(p.seriesId, p.dataIndex);
      if (i < 0) return;
      onPoint = true;
      if (i === hlPoint) return;
      highlight(i);
      setTimeout(function () {
        if (hlPoint !== i || !mouseXY) return;
        chart.dispatchAction({type: 'showTip', x: mouseXY[0], y: mouseXY[1],
          tooltip: {formatter: function () { return tooltip(i); }}});
      });
    }
    chart.on('mouseover', hover);
    chart.on('mousemove', hover);
    chart.on('mouseout', function () { highlight(-1); });
    var zr = chart.getZr();
    zr.on('mousemove', function (e) {
      mouseXY = [e.offsetX, e.offsetY];
      if (checking) return;
      checking = true;
      Promise.resolve().then(function () {
        checking = false;
        if (!onPoint) highlight(-1);
        onPoint = false;
      });
    });
    zr.on('globalout', function () { onPoint = false; mouseXY = null; highlight(-1); });
    keepSized(canvas, chart);
    return {
      chart: chart, stats: stats, tooltip: tooltip, highlight: highlight,
      // setVisible shows or hides a model (kind "model") or a language ("lang").
      setVisible: function (kind, name, on) {
        var list = kind === 'model' ? models.map(function (m) { return m.id; }) : langs;
        var i = list.indexOf(name);
        if (i < 0) return false;
        (kind === 'model' ? st.models : st.langs)[i] = !!on;
        var b = bar.querySelector('[data-' + kind + '="' + name.replace(/["\\]/g, '\\$&') + '"]');
        if (b) b.setAttribute('aria-pressed', on ? 'true' : 'false');
        update();
        return true;
      }
    };
  }

  return {mount: mount, version: 1};
})();
