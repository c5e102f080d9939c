// The playground's view: controls on top, data on the left, the network in the middle,
// the output on the right. It computes nothing: the kernel trains course.MLP and sends
// every picture as RGBA bytes; this file paints them and sends the controls' changes.

const SVG = "http://www.w3.org/2000/svg";
const ORANGE = "#f59322", BLUE = "#0877bd", GREEN = "#48a048";
const CLASS = [ORANGE, BLUE, GREEN];
const NODE = 36;          // unit picture size (px)
const GAP = 48;           // vertical distance between units
const TOP = 58;           // room for the layer headers

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const kid of kids) el.append(kid);
  return el;
}

function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function paint(canvas, bytes, R) {
  if (canvas.width !== R) { canvas.width = R; canvas.height = R; }
  canvas.getContext("2d").putImageData(new ImageData(bytes, R, R), 0, 0);
}

function slice(buffer, start, length) {
  return new Uint8ClampedArray(buffer.buffer, buffer.byteOffset + start, length);
}

function select(label, options, onchange, fmt = String) {
  const sel = h("select", { "aria-label": label, on: { change: () => onchange(sel.value) } });
  for (const o of options) sel.append(h("option", { value: String(o), text: fmt(o) }));
  return [h("label", { class: "pg-field" }, h("span", { text: label }), sel), sel];
}

function setSelect(sel, value, fmt = String) {
  const v = String(value);
  if (![...sel.options].some((o) => o.value === v)) sel.append(h("option", { value: v, text: fmt(value) }));
  sel.value = v;
}

function pointColour(value, problem) {
  if (problem === "regression") return value < 0 ? ORANGE : BLUE;
  return CLASS[value] || BLUE;
}

function drawPoints(ctx, pts, size, extent, problem, stroke) {
  const k = size / (2 * extent);
  for (const [x1, x2, v] of pts) {
    ctx.beginPath();
    ctx.arc((x1 + extent) * k, (extent - x2) * k, size > 100 ? 5 : 1.6, 0, 2 * Math.PI);
    ctx.fillStyle = pointColour(v, problem);
    if (problem === "regression") ctx.globalAlpha = Math.min(1, 0.25 + Math.abs(v));
    ctx.fill();
    ctx.globalAlpha = 1;
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 2; ctx.stroke(); }
  }
}

export default {
  render({ model, el }) {
    const lim = model.get("limits");
    const root = h("div", { class: "pg" });
    el.append(root);
    let scene = null, stopped = false, frameCount = 0, hovered = null, lastFrame = null;
    const inflight = [];
    let drawMs = 0;  // running mean of the time to paint a frame, for the benchmark
    const stamps = [];
    const cfg = () => model.get("config");
    const setCfg = (changes) => { model.set("config", { ...cfg(), ...changes }); model.save_changes(); };
    const send = (msg) => model.send(msg);
    let net, netSvg, netHead, nodes = {}, links = [], addLayerBtn, rmLayerBtn, layerCount;
    let surfaceLabel, lossTest, lossTrain, curve, surface, overlay, showTest, discrete, grads, codeIn, errEl, statusEl;

    // ---- top bar: play controls, epoch, training settings
    const bReset = h("button", { class: "pg-round", title: "Reset the network", "aria-label": "reset",
      text: "\u21ba", on: { click: () => send({ type: "reset" }) } });
    const bPlay = h("button", { class: "pg-play", title: "Run/Pause", "aria-label": "play",
      on: { click: () => { model.set("playing", !model.get("playing")); model.save_changes(); } } });
    const bStep = h("button", { class: "pg-round", title: "One epoch", "aria-label": "step",
      on: { click: () => send({ type: "step" }) } });
    bStep.innerHTML = '<svg width="16" height="16" viewBox="0 0 16 16"><path d="M3 2 L11 8 L3 14 Z" fill="currentColor"/><rect x="12" y="2" width="2.5" height="12" fill="currentColor"/></svg>';
    const epochEl = h("div", { class: "pg-epoch", text: "000,000" });
    const frameEl = h("div", { class: "pg-frames", text: "frame 0" });
    const [fLr, sLr] = select("Learning rate", lim.learning_rates, (v) => setCfg({ lr: +v }));
    const [fAct, sAct] = select("Activation", lim.activations, (v) => setCfg({ activation: v }));
    const [fReg, sReg] = select("Regularization", lim.regularizations, (v) => setCfg({ reg: v }));
    const [fRr, sRr] = select("Regularization rate", lim.reg_rates, (v) => setCfg({ reg_rate: +v }));
    const [fOpt, sOpt] = select("Optimizer", lim.optimizers, (v) => setCfg({ optimizer: v }),
      (o) => ({ sgd: "SGD", momentum: "Momentum", adam: "Adam" }[o] || o));
    const [fProb, sProb] = select("Problem type", ["classification", "regression"], (v) => {
      const first = Object.keys(lim.datasets).find((d) => lim.datasets[d] === v);
      if (lim.datasets[cfg().data] !== v) setCfg({ data: first });
    }, (o) => o[0].toUpperCase() + o.slice(1));
    root.append(h("div", { class: "pg-top" },
      h("div", { class: "pg-buttons" }, bReset, bPlay, bStep),
      h("div", { class: "pg-field" }, h("span", { text: "Epoch" }), epochEl, frameEl),
      fLr, fAct, fReg, fRr, fOpt, fProb));

    // ---- left column: data
    const thumbs = h("div", { class: "pg-thumbs" });
    const thumbButtons = {};
    for (const [name, pts] of Object.entries(lim.thumbs)) {
      const c = h("canvas", { width: 48, height: 48 });
      const ctx = c.getContext("2d");
      ctx.fillStyle = "#f4f5f6"; ctx.fillRect(0, 0, 48, 48);
      drawPoints(ctx, pts, 48, lim.extent, lim.datasets[name], null);
      const b = h("button", { class: "pg-thumb", title: name, "data-name": name,
        on: { click: () => setCfg({ data: name }) } }, c, h("span", { text: name }));
      thumbButtons[name] = b;
      thumbs.append(b);
    }
    function slider(label, min, max, step, key, suffix = "") {
      const out = h("b");
      const input = h("input", { type: "range", min, max, step, "aria-label": label,
        on: { input: () => { out.textContent = input.value + suffix; },
              change: () => setCfg({ [key]: +input.value }) } });
      return [h("label", { class: "pg-slider" }, h("span", {}, label + ": ", out), input),
              (v) => { input.value = v; out.textContent = v + suffix; }];
    }
    const [ratioEl, setRatio] = slider("Ratio of training to test data", 10, 90, 10, "train", "%");
    const [noiseEl, setNoise] = slider("Noise", 0, 50, 5, "noise");
    const [batchEl, setBatch] = slider("Batch size", 1, lim.max_batch, 1, "batch");
    const bRegen = h("button", { class: "pg-text", text: "Regenerate",
      on: { click: () => send({ type: "regenerate" }) } });
    root.append(h("div", { class: "pg-main" },
      h("div", { class: "pg-col pg-data" }, h("h4", { text: "Data" }),
        h("p", { class: "pg-small", text: "Pick a data set: click a picture." }), thumbs,
        ratioEl, noiseEl, batchEl, bRegen),
      (this_net()), this_out()));

    // ---- middle: the network
    function this_net() {
      netHead = h("div", { class: "pg-nethead" });
      netSvg = s("svg", { class: "pg-links" });
      net = h("div", { class: "pg-net" }, netSvg);
      return h("div", { class: "pg-col pg-middle" }, netHead, net);
    }

    // ---- right: output
    function this_out() {
      lossTest = h("b", { class: "pg-test-loss", text: "-" });
      lossTrain = h("b", { text: "-" });
      curve = h("canvas", { class: "pg-curve", width: 300, height: 64 });
      surface = h("canvas", { class: "pg-surface" });
      surfaceLabel = h("div", { class: "pg-surface-label" });
      overlay = h("canvas", { class: "pg-overlay", width: 600, height: 600 });
      showTest = h("input", { type: "checkbox", on: { change: () => {
        model.set("show_test", showTest.checked); model.save_changes(); drawOverlay(); } } });
      discrete = h("input", { type: "checkbox", on: { change: () => {
        model.set("discretize", discrete.checked); model.save_changes(); } } });
      grads = h("div", { class: "pg-grads" });
      codeIn = h("input", { type: "text", class: "pg-code", spellcheck: "false",
        "aria-label": "configuration string" });
      errEl = h("div", { class: "pg-error" });
      statusEl = h("div", { class: "pg-status" });
      const ticks = h("div", { class: "pg-ticks" }, h("span", { text: "-6" }), h("span", { text: "0" }),
        h("span", { text: "6" }));
      return h("div", { class: "pg-col pg-output" }, h("h4", { text: "Output" }),
        h("div", { class: "pg-losses" }, h("div", {}, "Test loss ", lossTest),
          h("div", {}, "Training loss ", lossTrain)),
        curve,
        h("div", { class: "pg-plot" }, surface, overlay, surfaceLabel), ticks,
        h("div", { class: "pg-checks" },
          h("label", {}, showTest, " Show test data"), h("label", {}, discrete, " Discretize output")),
        h("h4", { text: "Gradient norm per layer" }), grads,
        h("h4", { text: "Configuration" }),
        h("div", { class: "pg-row" }, codeIn,
          h("button", { class: "pg-text", text: "Load",
            on: { click: () => send({ type: "load", text: codeIn.value }) } })),
        h("div", { class: "pg-row" }, h("button", { class: "pg-text", text: "Export network",
          title: "Write the trained parameters and the code that rebuilds the network to a file",
          on: { click: () => send({ type: "export" }) } })),
        errEl, statusEl);
    }

    function layout() {
      if (!scene) return;
      const feats = scene.all_features, layers = scene.layers;
      const width = Math.max(net.clientWidth, 420);
      const cols = layers.length + 2;
      const left = 58;  // room for the feature names
      const dx = (width - left - NODE - 10) / (cols - 1);
      const colX = (i) => left + i * dx;
      const rows = Math.max(feats.length, ...layers, 1);
      const height = TOP + rows * GAP + 10;
      net.style.height = height + "px";
      netSvg.setAttribute("width", width); netSvg.setAttribute("height", height);
      for (const n of net.querySelectorAll(".pg-node")) n.remove();
      netHead.textContent = "";
      netSvg.textContent = "";
      nodes = { cols: [] };
      // features
      const fcol = [];
      feats.forEach((f, j) => {
        const active = scene.features.includes(f);
        const c = h("canvas", { width: scene.R, height: scene.R });
        const d = h("div", { class: "pg-node pg-feature" + (active ? "" : " pg-off"), title: f,
          style: `left:${colX(0)}px;top:${TOP + j * GAP}px`,
          on: { click: () => {
            const cur = cfg().features;
            const next = cur.includes(f) ? cur.filter((x) => x !== f) : [...cur, f];
            setCfg({ features: next });
          } } }, c, h("span", { class: "pg-flabel", text: f.replace("^2", "\u00b2").replace("*", "\u00b7") }));
        net.append(d);
        if (active) fcol.push({ x: colX(0), y: TOP + j * GAP, canvas: c });
        if (scene.featureBytes) {
          const idx = scene.features.indexOf(f);
          if (idx >= 0) paint(c, slice(scene.featureBytes, idx * scene.R * scene.R * 4, scene.R * scene.R * 4), scene.R);
        }
      });
      nodes.cols.push(fcol);
      // hidden layers
      const head = h("div", { class: "pg-headrow" });
      addLayerBtn = h("button", { class: "pg-round pg-small-btn", text: "+", "aria-label": "add layer",
        on: { click: () => { const l = cfg().layers; if (l.length < lim.max_layers) setCfg({ layers: [...l, 2] }); } } });
      rmLayerBtn = h("button", { class: "pg-round pg-small-btn", text: "\u2212", "aria-label": "remove layer",
        on: { click: () => { const l = cfg().layers; if (l.length > 0) setCfg({ layers: l.slice(0, -1) }); } } });
      addLayerBtn.disabled = layers.length >= lim.max_layers;
      rmLayerBtn.disabled = layers.length === 0;
      layerCount = h("span", { class: "pg-layercount", text: `${layers.length} hidden layer${layers.length === 1 ? "" : "s"}` });
      netHead.append(h("div", { class: "pg-headline" }, h("span", { class: "pg-h4", text: "Features" }),
        h("span", { class: "pg-layers-ctl" }, addLayerBtn, rmLayerBtn, layerCount)));
      layers.forEach((units, l) => {
        const col = [];
        const x = colX(l + 1);
        const plus = h("button", { class: "pg-round pg-small-btn", text: "+", "aria-label": `add unit to layer ${l + 1}`,
          on: { click: () => { const ls = [...cfg().layers]; if (ls[l] < lim.max_units) { ls[l] += 1; setCfg({ layers: ls }); } } } });
        const minus = h("button", { class: "pg-round pg-small-btn", text: "\u2212", "aria-label": `remove unit from layer ${l + 1}`,
          on: { click: () => { const ls = [...cfg().layers]; if (ls[l] > 1) { ls[l] -= 1; setCfg({ layers: ls }); } } } });
        plus.disabled = units >= lim.max_units; minus.disabled = units <= 1;
        net.append(h("div", { class: "pg-node pg-unitctl", style: `left:${x + NODE / 2 - 30}px;top:4px` },
          h("div", {}, plus, minus),
          h("div", { class: "pg-small", text: dx < 76 ? String(units) : `${units} neuron${units === 1 ? "" : "s"}` })));
        for (let u = 0; u < units; u++) {
          const y = TOP + u * GAP;
          const c = h("canvas", { width: scene.R, height: scene.R });
          const dead = h("div", { class: "pg-dead", text: "dead" });
          net.append(h("div", { class: "pg-node pg-unit", title: `layer ${l + 1}, unit ${u + 1}`,
            style: `left:${x}px;top:${y}px`,
            on: { mouseenter: () => { hovered = [l, u]; paintSurface(); },
                  mouseleave: () => { hovered = null; paintSurface(); } } }, c, dead));
          col.push({ x, y, canvas: c, dead });
        }
        nodes.cols.push(col);
      });
      const oc = h("canvas", { width: scene.R, height: scene.R });
      const ox = colX(cols - 1), oy = TOP;
      net.append(h("div", { class: "pg-node pg-unit pg-outnode", title: "output", style: `left:${ox}px;top:${oy}px` }, oc));
      nodes.cols.push([{ x: ox, y: oy, canvas: oc }]);
      nodes.out = oc;
      // links
      links = [];
      for (let l = 0; l + 1 < nodes.cols.length; l++) {
        const A = nodes.cols[l], B = nodes.cols[l + 1], layer = [];
        A.forEach((a) => {
          const row = [];
          B.forEach((b) => {
            const x0 = a.x + NODE, y0 = a.y + NODE / 2, x1 = b.x, y1 = b.y + NODE / 2, xm = (x0 + x1) / 2;
            const p = s("path", { d: `M${x0},${y0} C${xm},${y0} ${xm},${y1} ${x1},${y1}`, class: "pg-link" });
            p.append(s("title"));
            netSvg.append(p);
            row.push(p);
          });
          layer.push(row);
        });
        links.push(layer);
      }
    }

    function drawOverlay() {
      if (!scene) return;
      const ctx = overlay.getContext("2d");
      ctx.clearRect(0, 0, 600, 600);
      drawPoints(ctx, scene.train, 600, lim.extent, scene.problem, "#fff");
      if (showTest.checked) drawPoints(ctx, scene.test, 600, lim.extent, scene.problem, "#000");
    }

    function drawCurve(a, b) {
      const ctx = curve.getContext("2d");
      const W = curve.width, H = curve.height;
      ctx.clearRect(0, 0, W, H);
      const top = Math.max(1e-9, ...a, ...b);
      for (const [vals, colour] of [[a, "#aaa"], [b, "#222"]]) {
        ctx.beginPath();
        vals.forEach((v, i) => {
          const x = vals.length < 2 ? 0 : (i / (vals.length - 1)) * (W - 2) + 1;
          const y = H - 2 - (v / top) * (H - 4);
          i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
        });
        ctx.strokeStyle = colour; ctx.lineWidth = 1.5; ctx.stroke();
      }
    }

    // One bar per layer, on a log scale from 1e-6 to 10; built once per architecture.
    let bars = [];
    function drawGrads(norms, dead, layers) {
      if (bars.length !== norms.length) {
        grads.textContent = "";
        bars = norms.map((_, i) => {
          const bar = { val: h("div", { class: "pg-gval" }), fill: h("div", { class: "pg-gfill" }),
            dead: h("div", { class: "pg-small" }) };
          bar.el = h("div", { class: "pg-gbar" }, bar.val, bar.fill,
            h("div", { class: "pg-small", text: `W${i + 1}` }), bar.dead);
          grads.append(bar.el);
          return bar;
        });
      }
      norms.forEach((g, i) => {
        const bar = bars[i];
        const frac = Math.min(1, Math.max(0.02, (Math.log10(Math.max(g, 1e-8)) + 6) / 7));
        bar.el.title = `layer ${i + 1}: |dW| = ${g.toExponential(2)}`;
        bar.val.textContent = g < 1e-3 ? g.toExponential(0) : g.toFixed(3);
        bar.fill.style.height = `${Math.round(frac * 60)}px`;
        bar.dead.textContent = i < dead.length ? `${dead[i]}/${layers[i]} dead` : "output";
        bar.dead.classList.toggle("pg-warn", i < dead.length && dead[i] > 0);
      });
    }

    function onFrame(m, buffers) {
      frameCount += 1;
      const now = performance.now();
      stamps.push(now);
      while (stamps.length && now - stamps[0] > 2000) stamps.shift();
      const fps = stamps.length > 1 ? (stamps.length - 1) / ((now - stamps[0]) / 1000) : 0;
      epochEl.textContent = String(m.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
      frameEl.textContent = model.get("playing") ? `frame ${m.frame} \u00b7 ${fps.toFixed(0)} fps`
        : `frame ${m.frame}`;
      root.dataset.frame = m.frame; root.dataset.epoch = m.epoch;
      root.dataset.testLoss = m.test_loss; root.dataset.fps = fps.toFixed(1);
      root.dataset.frames = frameCount;
      lossTest.textContent = m.test_loss.toFixed(3);
      lossTrain.textContent = m.train_loss.toFixed(3);
      const R = m.R, n = R * R * 4;
      lastFrame = [m, buffers];
      paintSurface();
      if (!scene || scene.layers.length !== m.layers.length || scene.layers.some((u, i) => u !== m.layers[i])) return;
      m.layers.forEach((H, l) => {
        const col = nodes.cols[l + 1];
        for (let u = 0; u < H && u < col.length; u++) {
          paint(col[u].canvas, slice(buffers[l + 1], u * n, n), R);
          col[u].dead.style.display = m.dead_mask[l][u] ? "" : "none";
        }
      });
      if (nodes.out) paint(nodes.out, slice(buffers[0], 0, n), R);
      let big = 0;
      for (const W of m.weights) for (const row of W) for (const w of row) big = Math.max(big, Math.abs(w));
      const scale = 6 / Math.max(big, 1);
      m.weights.forEach((W, l) => {
        const L = links[l];
        if (!L) return;
        W.forEach((row, a) => row.forEach((w, b) => {
          const p = L[a] && L[a][b];
          if (!p) return;
          p.setAttribute("stroke", w < 0 ? ORANGE : BLUE);
          p.setAttribute("stroke-width", (0.4 + Math.abs(w) * scale).toFixed(2));
          p.firstChild.textContent = `weight ${w.toFixed(3)}`;
        }));
      });
      drawCurve(m.curve_train, m.curve_test);
      drawGrads(m.grad_norms, m.dead, m.layers);
    }

    // The big picture shows the output, or the unit under the mouse.
    function paintSurface() {
      if (!lastFrame) return;
      const [m, buffers] = lastFrame;
      const R = m.R, n = R * R * 4;
      const [l, u] = hovered || [-1, 0];
      const unit = l >= 0 && l < m.layers.length && u < m.layers[l];
      paint(surface, unit ? slice(buffers[l + 1], u * n, n) : slice(buffers[0], 0, n), R);
      surfaceLabel.textContent = unit ? `unit ${u + 1} of layer ${l + 1}` : "";
    }

    function syncControls() {
      const c = cfg();
      setSelect(sLr, c.lr); setSelect(sAct, c.activation); setSelect(sReg, c.reg);
      setSelect(sRr, c.reg_rate); setSelect(sOpt, c.optimizer);
      sProb.value = lim.datasets[c.data];
      sRr.disabled = c.reg === "none";
      setRatio(c.train); setNoise(c.noise); setBatch(c.batch);
      for (const [name, b] of Object.entries(thumbButtons)) {
        b.classList.toggle("pg-selected", name === c.data);
        b.style.display = lim.datasets[name] === lim.datasets[c.data] ? "" : "none";
      }
      codeIn.value = model.get("code");
    }
    function syncPlay() {
      const p = model.get("playing");
      bPlay.innerHTML = p
        ? '<svg width="20" height="20" viewBox="0 0 20 20"><rect x="4" y="3" width="4" height="14" fill="#fff"/><rect x="12" y="3" width="4" height="14" fill="#fff"/></svg>'
        : '<svg width="20" height="20" viewBox="0 0 20 20"><path d="M5 2 L17 10 L5 18 Z" fill="#fff"/></svg>';
      bPlay.classList.toggle("pg-playing", p);
    }
    const onMsg = (m, buffers) => {
      if (m.type === "scene") {
        scene = { ...m, featureBytes: buffers[0] };
        layout();
        drawOverlay();
      } else if (m.type === "frame") {
        if (m.requested) inflight.shift();
        const t0 = performance.now();
        onFrame(m, buffers);
        drawMs = 0.9 * drawMs + 0.1 * (performance.now() - t0);
        root.dataset.drawMs = drawMs.toFixed(2);
      }
    };
    const handlers = [
      ["msg:custom", onMsg], ["change:config", syncControls], ["change:code", syncControls],
      ["change:playing", syncPlay],
      ["change:error", () => { errEl.textContent = model.get("error"); }],
      ["change:status", () => { statusEl.textContent = model.get("status"); }],
    ];
    for (const [ev, fn] of handlers) model.on(ev, fn);
    syncControls(); syncPlay();
    errEl.textContent = model.get("error"); statusEl.textContent = model.get("status");
    showTest.checked = model.get("show_test"); discrete.checked = model.get("discretize");

    // Keep at most two frames in flight: the kernel trains the next one while this one
    // travels and is painted, and frames never pile up behind a slow kernel.
    function loop() {
      if (stopped) return;
      const now = performance.now();
      if (inflight.length && now - inflight[0] > 5000) inflight.length = 0;  // lost replies
      if (model.get("playing")) {
        while (inflight.length < 2) { inflight.push(now); send({ type: "frame" }); }
      }
      requestAnimationFrame(loop);
    }
    requestAnimationFrame(loop);
    let lastWidth = 0;
    const resize = new ResizeObserver(() => {
      if (scene && net.clientWidth !== lastWidth) { lastWidth = net.clientWidth; layout(); }
    });
    resize.observe(net);
    send({ type: "hello" });
    return () => {
      stopped = true;
      resize.disconnect();
      for (const [ev, fn] of handlers) model.off(ev, fn);
    };
  },
};
