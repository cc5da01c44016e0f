// drlim view: an interactive map in one file. WebGL 2 points (2-D: pan and zoom; 3-D: rotate,
// pan and zoom), colour by any column, hover cards with thumbnails, layers, search, lasso.
// Everything it needs is in the page: the manifest (JSON) and base64 blobs in <script> tags.
(function () {
  "use strict";
  const T0 = performance.now();
  const $ = (id) => document.getElementById(id);
  const M = JSON.parse($("drlim-manifest").textContent);
  const DIM = M.dim;

  // ---- data -------------------------------------------------------------------------------
  function bytes(id) {
    const s = atob($(id).textContent.trim());
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return b.buffer;
  }
  function codesOf(c) {
    const buf = bytes(c.codes);
    return c.code_bytes === 1 ? new Uint8Array(buf) : c.code_bytes === 2 ? new Uint16Array(buf) : new Uint32Array(buf);
  }
  const layers = M.layers.map((L, li) => {
    const raw = new Float32Array(bytes(L.coords));
    const pos = new Float32Array(L.n * 3);
    for (let i = 0; i < L.n; i++) for (let d = 0; d < DIM; d++) pos[i * 3 + d] = raw[i * DIM + d];
    const cols = {};
    for (const c of L.columns) {
      cols[c.name] = c.kind === "categorical" ? Object.assign({}, c, { data: codesOf(c) })
        : Object.assign({}, c, { data: new Float32Array(bytes(c.values)) });
    }
    const rows = L.rows ? Object.assign({}, L.rows, { data: new Float32Array(bytes(L.rows.values)) }) : null;
    return { li, name: L.name, n: L.n, pos, cols, rows, thumbs: L.thumbs || null, atlases: {},
      visible: true, colour: new Uint8Array(L.n * 4), screen: new Float32Array(L.n * 2), selected: null };
  });
  const columnNames = [];
  for (const L of M.layers) for (const c of L.columns) if (!columnNames.includes(c.name)) columnNames.push(c.name);
  function columnInfo(name) {
    for (const L of layers) if (L.cols[name]) return L.cols[name];
    return null;
  }

  // bounding box of every layer: the default view fits it
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (const L of layers) for (let i = 0; i < L.n; i++) for (let d = 0; d < DIM; d++) {
    const v = L.pos[i * 3 + d]; if (v < lo[d]) lo[d] = v; if (v > hi[d]) hi[d] = v;
  }
  for (let d = 0; d < 3; d++) if (!(hi[d] >= lo[d])) { lo[d] = 0; hi[d] = 0; }
  const centre = [0, 1, 2].map((d) => (lo[d] + hi[d]) / 2);
  const half = Math.max(1e-12, ...[0, 1, 2].map((d) => (hi[d] - lo[d]) / 2));

  // ---- colours ----------------------------------------------------------------------------
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#c7c7c7", "#dbdb8d", "#9edae5"];
  const VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
    [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
  function hex(h) { return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)); }
  function categoryColour(k) {
    if (k < PALETTE.length) return hex(PALETTE[k]);
    return hsl(((k * 137.508) % 360) / 360, 0.65, 0.5);
  }
  function hsl(h, s, l) {
    const f = (n) => { const k = (n + h * 12) % 12; const a = s * Math.min(l, 1 - l);
      return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)))); };
    return [f(0), f(8), f(4)];
  }
  function viridis(t) {
    t = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    const k = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - k, a = VIRIDIS[k], b = VIRIDIS[k + 1];
    return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c])));
  }
  function css(rgb) { return "rgb(" + rgb.join(",") + ")"; }

  const ZOOM_3D = 0.72; // the whole bounding box in view
  const state = { colourBy: columnNames[0] || "", hidden: new Set(), size: defaultSize(), opacity: defaultOpacity(),
    yaw: 0.6, pitch: 0.35, zoom: DIM === 3 ? ZOOM_3D : 1, target: centre.slice(), selection: null, hover: null };
  function defaultSize() {
    const n = layers.reduce((s, L) => s + L.n, 0);
    return n <= 2000 ? 6 : n <= 20000 ? 4 : n <= 200000 ? 2.5 : 1.5;
  }
  function defaultOpacity() {
    const n = layers.reduce((s, L) => s + L.n, 0);
    return n <= 20000 ? 0.85 : n <= 200000 ? 0.6 : 0.4;
  }

  function recolour() {
    const col = columnInfo(state.colourBy);
    for (const L of layers) {
      const c = L.cols[state.colourBy], out = L.colour, sel = L.selected;
      const dimmed = state.selection !== null;
      // a colour per category, computed once rather than per point
      const palette = c && c.kind === "categorical" ? c.categories.map((_, k) => categoryColour(k)) : null;
      for (let i = 0; i < L.n; i++) {
        let rgb = [110, 110, 110], a = 255;
        if (palette) {
          const k = c.data[i]; rgb = palette[k]; if (state.hidden.has(k)) a = 0;
        } else if (c && c.kind === "circular") {
          const v = c.data[i] / c.period; rgb = hsl(v - Math.floor(v), 0.75, 0.5);
        } else if (c) {
          rgb = viridis((c.data[i] - c.lo) / ((c.hi - c.lo) || 1));
        }
        if (a && dimmed && !(sel && sel.has(i))) a = 40;
        out[i * 4] = rgb[0]; out[i * 4 + 1] = rgb[1]; out[i * 4 + 2] = rgb[2]; out[i * 4 + 3] = a;
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, L.colourBuf);
      gl.bufferData(gl.ARRAY_BUFFER, out, gl.DYNAMIC_DRAW);
    }
    legend(col);
    draw();
  }

  // ---- WebGL ------------------------------------------------------------------------------
  const canvas = $("gl");
  const gl = canvas.getContext("webgl2", { antialias: false, preserveDrawingBuffer: true, alpha: false });
  if (!gl) { $("status").textContent = "This browser has no WebGL 2: the map cannot be drawn."; return; }
  const VS = `#version 300 es
    in vec3 a_pos; in vec4 a_col; uniform mat4 u_mvp; uniform float u_size; out vec4 v_col;
    void main() { gl_Position = u_mvp * vec4(a_pos, 1.0); gl_PointSize = u_size; v_col = a_col; }`;
  const FS = `#version 300 es
    precision mediump float; in vec4 v_col; uniform float u_opacity; uniform float u_ring; out vec4 o;
    void main() { vec2 d = gl_PointCoord * 2.0 - 1.0; float r = dot(d, d);
      if (r > 1.0 || v_col.a == 0.0 || (u_ring > 0.5 && r < 0.36)) discard;
      o = vec4(v_col.rgb, v_col.a * u_opacity); }`;
  function shader(type, src) {
    const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  }
  const prog = gl.createProgram();
  gl.attachShader(prog, shader(gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  const U = {}; for (const u of ["u_mvp", "u_size", "u_opacity", "u_ring"]) U[u] = gl.getUniformLocation(prog, u);
  for (const L of layers) {
    L.vao = gl.createVertexArray(); gl.bindVertexArray(L.vao);
    const pb = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, pb); gl.bufferData(gl.ARRAY_BUFFER, L.pos, gl.STATIC_DRAW);
    const ap = gl.getAttribLocation(prog, "a_pos"); gl.enableVertexAttribArray(ap); gl.vertexAttribPointer(ap, 3, gl.FLOAT, false, 0, 0);
    L.colourBuf = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, L.colourBuf); gl.bufferData(gl.ARRAY_BUFFER, L.colour, gl.DYNAMIC_DRAW);
    const ac = gl.getAttribLocation(prog, "a_col"); gl.enableVertexAttribArray(ac); gl.vertexAttribPointer(ac, 4, gl.UNSIGNED_BYTE, true, 0, 0);
  }
  gl.bindVertexArray(null);

  // ---- camera -----------------------------------------------------------------------------
  function mul(a, b) { // column-major 4×4: a·b
    const o = new Float32Array(16);
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) {
      let s = 0; for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k]; o[c * 4 + r] = s;
    }
    return o;
  }
  function rotation() { // rows of R = Rx(pitch)·Ry(yaw), as a column-major 4×4
    const cy = Math.cos(state.yaw), sy = Math.sin(state.yaw), cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
    return new Float32Array([cy, sy * sp, -sy * cp, 0, 0, cp, sp, 0, sy, -cy * sp, cy * cp, 0, 0, 0, 0, 1]);
  }
  function mvp() {
    const w = canvas.width, h = canvas.height, m = Math.min(w, h), s = state.zoom / half;
    const t = state.target;
    const model = new Float32Array([s, 0, 0, 0, 0, s, 0, 0, 0, 0, s, 0, -s * t[0], -s * t[1], -s * t[2], 1]);
    if (DIM === 2) {
      const proj = new Float32Array([0.92 * m / w, 0, 0, 0, 0, 0.92 * m / h, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
      return mul(proj, model);
    }
    const f = 1 / Math.tan(Math.PI / 8), near = 0.1, far = 100, dist = 3.2;
    const view = mul(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -dist, 1]), rotation());
    const proj = new Float32Array([f * m / w, 0, 0, 0, 0, f * m / h, 0, 0, 0, 0, (far + near) / (near - far), -1,
      0, 0, 2 * far * near / (near - far), 0]);
    return mul(proj, mul(view, model));
  }
  function toScreen(m, x, y, z) {
    const cw = m[3] * x + m[7] * y + m[11] * z + m[15];
    const cx = (m[0] * x + m[4] * y + m[8] * z + m[12]) / cw, cy = (m[1] * x + m[5] * y + m[9] * z + m[13]) / cw;
    return cw > 0 ? [(cx + 1) * canvas.clientWidth / 2, (1 - cy) * canvas.clientHeight / 2] : null;
  }
  function box() { // 3-D: the data's bounding box, thin and grey, to show which way is up
    const m = mvp(), c = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => toScreen(m, k & 1 ? hi[0] : lo[0], k & 2 ? hi[1] : lo[1], k & 4 ? hi[2] : lo[2]));
    octx.strokeStyle = "rgba(0,0,0,0.18)"; octx.lineWidth = 1; octx.beginPath();
    for (let a = 0; a < 8; a++) for (const b of [1, 2, 4]) {
      if (a & b || !c[a] || !c[a | b]) continue;
      octx.moveTo(c[a][0], c[a][1]); octx.lineTo(c[a | b][0], c[a | b][1]);
    }
    octx.stroke();
    octx.fillStyle = "rgba(0,0,0,0.45)"; octx.font = "11px system-ui, sans-serif";
    [[1, "x"], [2, "y"], [4, "z"]].forEach(([k, name]) => { if (c[k]) octx.fillText(name, c[k][0] + 4, c[k][1] - 4); });
  }
  let screenValid = false;
  function project() { // every point's position in CSS pixels, for hovering and selecting
    if (screenValid) return;
    const m = mvp(), w = canvas.clientWidth, h = canvas.clientHeight;
    for (const L of layers) {
      const p = L.pos, s = L.screen;
      for (let i = 0; i < L.n; i++) {
        const x = p[i * 3], y = p[i * 3 + 1], z = p[i * 3 + 2];
        const cw = m[3] * x + m[7] * y + m[11] * z + m[15];
        const cx = (m[0] * x + m[4] * y + m[8] * z + m[12]) / cw, cy = (m[1] * x + m[5] * y + m[9] * z + m[13]) / cw;
        s[i * 2] = cw > 0 ? (cx + 1) * w / 2 : NaN; s[i * 2 + 1] = (1 - cy) * h / 2;
      }
    }
    screenValid = true;
  }

  let frames = 0, firstFrameMs = null, pending = false;
  function draw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; drawNow(); });
  }
  function drawNow() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * dpr), h = Math.round(canvas.clientHeight * dpr);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    gl.viewport(0, 0, w, h);
    gl.clearColor(1, 1, 1, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND); gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.useProgram(prog);
    gl.uniformMatrix4fv(U.u_mvp, false, mvp());
    gl.uniform1f(U.u_opacity, state.opacity);
    for (const L of layers) {
      if (!L.visible) continue;
      gl.uniform1f(U.u_size, (L.li > 0 ? state.size * 1.8 + 2 : state.size) * dpr);
      gl.uniform1f(U.u_ring, L.li > 0 ? 1 : 0);
      gl.bindVertexArray(L.vao); gl.drawArrays(gl.POINTS, 0, L.n);
    }
    gl.bindVertexArray(null);
    frames++;
    if (firstFrameMs === null) { gl.finish(); firstFrameMs = performance.now(); window.drlimView.ready = true; }
    overlay();
  }

  // ---- overlay: the hovered point, the lasso ----------------------------------------------
  const ov = $("overlay"), octx = ov.getContext("2d");
  let lassoPath = null;
  function overlay() {
    const dpr = window.devicePixelRatio || 1;
    ov.width = Math.round(ov.clientWidth * dpr); ov.height = Math.round(ov.clientHeight * dpr);
    octx.setTransform(dpr, 0, 0, dpr, 0, 0);
    octx.clearRect(0, 0, ov.width, ov.height);
    if (DIM === 3) box();
    if (state.hover) {
      project();
      const L = layers[state.hover.layer], i = state.hover.index;
      octx.strokeStyle = "#000"; octx.lineWidth = 2; octx.beginPath();
      octx.arc(L.screen[i * 2], L.screen[i * 2 + 1], Math.max(5, state.size), 0, 2 * Math.PI); octx.stroke();
    }
    if (lassoPath && lassoPath.length > 1) {
      octx.strokeStyle = "#d62728"; octx.lineWidth = 1.5; octx.setLineDash([5, 4]); octx.beginPath();
      octx.moveTo(lassoPath[0][0], lassoPath[0][1]);
      for (const p of lassoPath) octx.lineTo(p[0], p[1]);
      octx.closePath(); octx.stroke(); octx.setLineDash([]);
    }
  }

  // ---- hovering -----------------------------------------------------------------------------
  function nearest(x, y) {
    project();
    let best = null, bd = Math.max(8, state.size) ** 2;
    for (const L of layers) {
      if (!L.visible) continue;
      const s = L.screen, c = L.colour;
      for (let i = 0; i < L.n; i++) {
        if (c[i * 4 + 3] === 0) continue;
        const dx = s[i * 2] - x, dy = s[i * 2 + 1] - y, d = dx * dx + dy * dy;
        if (d <= bd) { bd = d; best = { layer: L.li, index: i }; }
      }
    }
    return best;
  }
  function valueText(c, i) {
    if (c.kind === "categorical") return c.categories[c.data[i]];
    const v = c.data[i];
    return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  }
  function atlas(L, a) {
    if (!L.atlases[a]) {
      const img = new Image();
      img.onload = () => { if (state.hover) card(state.hover); };
      img.src = "data:image/png;base64," + $(L.thumbs.atlases[a]).textContent.trim();
      L.atlases[a] = img;
    }
    return L.atlases[a];
  }
  function thumbnail(L, i, cv) {
    const t = L.thumbs;
    if (!t || i % t.stride !== 0) return false;
    const k = i / t.stride, a = Math.floor(k / t.per_atlas), r = k % t.per_atlas;
    const img = atlas(L, a);
    const ctx = cv.getContext("2d");
    cv.width = t.width * 4; cv.height = t.height * 4;
    ctx.imageSmoothingEnabled = false;
    if (img.complete && img.naturalWidth) {
      ctx.drawImage(img, (r % t.per_row) * t.width, Math.floor(r / t.per_row) * t.height, t.width, t.height,
        0, 0, cv.width, cv.height);
    }
    return true;
  }
  function card(h) {
    const el = $("card");
    if (!h) { el.style.display = "none"; return; }
    const L = layers[h.layer], i = h.index;
    const lines = ["<b>" + L.name + " #" + i + "</b>"];
    for (const name in L.cols) lines.push(escapeHtml(name) + ": " + escapeHtml(valueText(L.cols[name], i)));
    if (L.rows) {
      const r = L.rows, vals = [];
      for (let d = 0; d < r.shown; d++) vals.push("x" + r.indices[d] + "=" + (+r.data[i * r.shown + d].toPrecision(4)));
      lines.push(escapeHtml(vals.join(", ") + (r.dim > r.shown ? " (" + r.shown + " of " + r.dim + " values)" : "")));
    }
    $("card-text").innerHTML = lines.join("<br>");
    const cv = $("card-thumb");
    cv.style.display = thumbnail(L, i, cv) ? "block" : "none";
    project();
    const x = L.screen[i * 2], y = L.screen[i * 2 + 1];
    el.style.display = "block";
    el.style.left = Math.min(canvas.clientWidth - el.offsetWidth - 4, x + 14) + "px";
    el.style.top = Math.min(canvas.clientHeight - el.offsetHeight - 4, y + 14) + "px";
    el.dataset.layer = L.name; el.dataset.index = i;
  }
  function escapeHtml(s) { return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" })[c]); }
  let hoverPending = null;
  function hoverAt(x, y) {
    hoverPending = [x, y];
    requestAnimationFrame(() => {
      if (!hoverPending) return;
      const [hx, hy] = hoverPending; hoverPending = null;
      const t = performance.now();
      const h = nearest(hx, hy);
      window.drlimView.pickMs = performance.now() - t;
      const same = h && state.hover && h.layer === state.hover.layer && h.index === state.hover.index;
      if (!same) { state.hover = h; card(h); overlay(); }
    });
  }

  // ---- legend -------------------------------------------------------------------------------
  function legend(col) {
    const el = $("legend");
    el.innerHTML = "";
    if (!col) return;
    const title = document.createElement("div"); title.className = "legend-title"; title.textContent = col.name;
    el.appendChild(title);
    if (col.kind === "categorical") {
      const counts = new Array(col.categories.length).fill(0);
      for (const L of layers) { const c = L.cols[col.name]; if (c) for (let i = 0; i < L.n; i++) counts[c.data[i]]++; }
      const max = 60;
      col.categories.slice(0, max).forEach((name, k) => {
        const row = document.createElement("div");
        row.className = "entry" + (state.hidden.has(k) ? " off" : "");
        row.dataset.category = name;
        row.innerHTML = '<span class="swatch" style="background:' + css(categoryColour(k)) + '"></span>' +
          escapeHtml(name) + ' <span class="count">' + counts[k] + "</span>";
        row.onclick = () => { state.hidden.has(k) ? state.hidden.delete(k) : state.hidden.add(k); state.hover = null; card(null); recolour(); };
        el.appendChild(row);
      });
      if (col.categories.length > max) el.appendChild(document.createTextNode("… " + (col.categories.length - max) + " more"));
    } else {
      const bar = document.createElement("div");
      bar.className = col.kind === "circular" ? "wheel" : "bar";
      bar.style.background = col.kind === "circular"
        ? "conic-gradient(from 90deg, " + [0, 60, 120, 180, 240, 300, 360].map((d) => css(hsl(d / 360, 0.75, 0.5))).join(",") + ")"
        : "linear-gradient(to right, " + VIRIDIS.map(css).join(",") + ")";
      el.appendChild(bar);
      const ends = document.createElement("div"); ends.className = "ends";
      ends.innerHTML = col.kind === "circular" ? "0 … " + col.period + " (circular)" :
        "<span>" + (+col.lo.toPrecision(4)) + "</span><span>" + (+col.hi.toPrecision(4)) + "</span>";
      el.appendChild(ends);
    }
  }

  // ---- selection and search -----------------------------------------------------------------
  function inside(poly, x, y) {
    let c = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i], [xj, yj] = poly[j];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) c = !c;
    }
    return c;
  }
  function selectPolygon(poly) {
    project();
    const sets = layers.map((L) => {
      const s = new Set();
      if (!L.visible) return s;
      for (let i = 0; i < L.n; i++) {
        if (L.colour[i * 4 + 3] === 0) continue;
        const x = L.screen[i * 2], y = L.screen[i * 2 + 1];
        if (x === x && inside(poly, x, y)) s.add(i);
      }
      return s;
    });
    setSelection(sets);
  }
  function setSelection(sets) {
    const total = sets ? sets.reduce((a, s) => a + s.size, 0) : 0;
    layers.forEach((L, k) => { L.selected = sets ? sets[k] : null; });
    state.selection = sets;
    $("selection").style.display = sets ? "block" : "none";
    $("sel-count").textContent = total + " selected";
    recolour();
  }
  function selection() {
    const out = {};
    for (const L of layers) out[L.name] = L.selected ? Array.from(L.selected).sort((a, b) => a - b) : [];
    return out;
  }
  function selectionCsv() {
    const rows = ["layer,index"];
    for (const L of layers) if (L.selected) for (const i of Array.from(L.selected).sort((a, b) => a - b)) rows.push(L.name + "," + i);
    return rows.join("\n") + "\n";
  }
  function search(text) {
    text = text.trim();
    if (!text) { setSelection(null); $("search-status").textContent = ""; return; }
    let sets;
    if (/^\d+$/.test(text) && +text < layers[0].n) {
      sets = layers.map((L, k) => new Set(k === 0 ? [+text] : []));
      const i = +text, p = layers[0].pos;
      state.target = [p[i * 3], p[i * 3 + 1], p[i * 3 + 2]]; screenValid = false;
    } else {
      sets = layers.map((L) => {
        const s = new Set();
        for (const name in L.cols) {
          const c = L.cols[name];
          if (c.kind === "categorical") {
            const k = c.categories.indexOf(text);
            if (k >= 0) for (let i = 0; i < L.n; i++) if (c.data[i] === k) s.add(i);
          } else if (text !== "" && !isNaN(+text)) {
            for (let i = 0; i < L.n; i++) if (c.data[i] === +text) s.add(i);
          }
        }
        return s;
      });
    }
    const total = sets.reduce((a, s) => a + s.size, 0);
    $("search-status").textContent = total ? total + " found" : "nothing found";
    setSelection(total ? sets : null);
    if (total === 1) {
      const k = sets.findIndex((s) => s.size), i = sets[k].values().next().value;
      state.hover = { layer: k, index: i }; draw(); requestAnimationFrame(() => card(state.hover));
    }
  }
  function save(name, text) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = name; document.body.appendChild(a); a.click(); a.remove();
  }
  function copy(text) {
    const done = () => { $("sel-count").textContent += " (copied)"; };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, () => fallback()); } else fallback();
    function fallback() {
      const t = document.createElement("textarea"); t.value = text; document.body.appendChild(t); t.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selectable */ }
      t.remove();
    }
  }

  // ---- mouse ------------------------------------------------------------------------------
  let drag = null;
  canvas.addEventListener("mousedown", (e) => {
    drag = { x: e.offsetX, y: e.offsetY, lasso: e.shiftKey, pan: DIM === 2 || e.ctrlKey || e.button === 2 };
    if (drag.lasso) lassoPath = [[e.offsetX, e.offsetY]];
    e.preventDefault();
  });
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  window.addEventListener("mouseup", () => {
    if (drag && drag.lasso && lassoPath && lassoPath.length > 2) selectPolygon(lassoPath);
    lassoPath = null; drag = null; overlay();
  });
  canvas.addEventListener("mousemove", (e) => {
    if (!drag) { hoverAt(e.offsetX, e.offsetY); return; }
    const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
    drag.x = e.offsetX; drag.y = e.offsetY;
    if (drag.lasso) { lassoPath.push([e.offsetX, e.offsetY]); overlay(); return; }
    state.hover = null; card(null);
    if (drag.pan) pan(dx, dy); else { state.yaw += dx * 0.01; state.pitch = Math.max(-1.55, Math.min(1.55, state.pitch + dy * 0.01)); }
    screenValid = false; draw();
  });
  function pan(dx, dy) {
    // world units per CSS pixel: 2-D fills 92% of the shorter side; 3-D sees ±dist·tan(22.5°)
    const m = Math.min(canvas.clientWidth, canvas.clientHeight);
    const k = 2 * half * (DIM === 2 ? 1 / 0.92 : 3.2 * Math.tan(Math.PI / 8)) / (m * state.zoom);
    if (DIM === 2) { state.target[0] -= dx * k; state.target[1] += dy * k; return; }
    const R = rotation(); // camera right = first row of R, up = second row
    for (let d = 0; d < 3; d++) state.target[d] -= (dx * R[d * 4] - dy * R[d * 4 + 1]) * k;
  }
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const f = Math.exp(-e.deltaY * 0.0015);
    if (DIM === 2) { // keep the point under the cursor where it is
      const m = Math.min(canvas.clientWidth, canvas.clientHeight) * 0.92;
      const ux = (e.offsetX - canvas.clientWidth / 2) * 2 * half / (m * state.zoom);
      const uy = -(e.offsetY - canvas.clientHeight / 2) * 2 * half / (m * state.zoom);
      state.target[0] += ux * (1 - 1 / f); state.target[1] += uy * (1 - 1 / f);
    }
    state.zoom *= f; screenValid = false; draw();
  }, { passive: false });
  canvas.addEventListener("dblclick", () => { state.zoom = DIM === 3 ? ZOOM_3D : 1; state.target = centre.slice(); state.yaw = 0.6; state.pitch = 0.35; screenValid = false; draw(); });
  canvas.addEventListener("mouseleave", () => { if (!drag) { state.hover = null; card(null); overlay(); } });
  window.addEventListener("resize", () => { screenValid = false; draw(); });

  // ---- controls ---------------------------------------------------------------------------
  const sel = $("colour-by");
  for (const name of columnNames) { const o = document.createElement("option"); o.value = o.textContent = name; sel.appendChild(o); }
  sel.onchange = () => { state.colourBy = sel.value; state.hidden.clear(); recolour(); };
  $("size").value = state.size; $("size").oninput = (e) => { state.size = +e.target.value; draw(); };
  $("opacity").value = state.opacity; $("opacity").oninput = (e) => { state.opacity = +e.target.value; draw(); };
  const lay = $("layers");
  for (const L of layers) {
    const label = document.createElement("label");
    label.innerHTML = '<input type="checkbox" checked data-layer="' + escapeHtml(L.name) + '"> ' + escapeHtml(L.name) +
      " (" + L.n.toLocaleString("en") + (L.li > 0 ? ", rings" : "") + ")";
    label.firstChild.onchange = (e) => { L.visible = e.target.checked; state.hover = null; card(null); draw(); };
    lay.appendChild(label);
  }
  $("search").addEventListener("keydown", (e) => { if (e.key === "Enter") search(e.target.value); });
  $("sel-copy").onclick = () => copy(layers.map((L) => L.name + ": " + selection()[L.name].join(",")).join("\n"));
  $("sel-csv").onclick = () => save("drlim-selection.csv", selectionCsv());
  $("sel-clear").onclick = () => setSelection(null);
  $("reset").onclick = () => canvas.dispatchEvent(new MouseEvent("dblclick"));
  $("help").textContent = DIM === 2 ? "drag: pan · wheel: zoom · shift-drag: lasso · double-click: reset"
    : "drag: rotate · ctrl- or right-drag: pan · wheel: zoom · shift-drag: lasso · double-click: reset";

  // what the browser tests (and curious users, from the console) can ask
  window.drlimView = {
    ready: false, manifest: M,
    get firstFrameMs() { return firstFrameMs === null ? null : firstFrameMs; },
    get frames() { return frames; },
    screenOf(layer, i) { project(); const L = layers[layer]; const r = canvas.getBoundingClientRect(); return [r.left + L.screen[i * 2], r.top + L.screen[i * 2 + 1]]; },
    camera() { return { yaw: state.yaw, pitch: state.pitch, zoom: state.zoom, target: state.target.slice() }; },
    selection, selectionCsv, selectPolygon, search,
    setColourBy(name) { sel.value = name; sel.onchange(); },
    turn(yaw, pitch) { state.yaw = yaw; state.pitch = pitch; screenValid = false; draw(); },
    setupMs: null, pickMs: null,
  };
  recolour();
  window.drlimView.setupMs = performance.now() - T0;
})();
