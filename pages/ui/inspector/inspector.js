// PoolScope's inspector: hover, pin, step and play over a pooling's input and output, in the browser.
// Plain JavaScript, no network: the data comes with the page (see payload.py). Text from the data is
// only ever set with textContent.
//
// This file is the code of the "poolscope_inspector_code" component, whose message never changes:
// Streamlit sends it once per page and then refers to the browser's copy. It hands the code to
// mount.js, the component that gets the data on every rerun and so is kept small.

const READY = "poolscope-inspector-ready";

const views = new WeakMap(); // one view per mounted component, kept across reruns
const PIN_DELAY_MS = 250; // steps in quick succession send one pin, not one each
const STEP_ROLES = ["previous", "play", "next"]; // the buttons, in their order

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// The colour of a value on the payload's scale (the figures' palette), grey for NaN and infinities.
function colorOf(scale, value) {
  if (value === null) return [128, 128, 128];
  const stops = scale.rgb;
  const span = scale.max - scale.min || 1;
  const t = Math.min(Math.max((value - scale.min) / span, 0), 1) * (stops.length - 1);
  const k = Math.min(Math.floor(t), stops.length - 2);
  const f = t - k;
  return stops[k].map((c, i) => Math.round(c + (stops[k + 1][i] - c) * f));
}

function textOn([r, g, b]) {
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}

function cellLabel(i, j) {
  return `(${i}, ${j})`;
}

// A text of the payload's words (the page's language) with its {fields} filled in.
function fill(template, fields = {}) {
  return template.replace(/\{(\w+)\}/g, (_, name) => String(fields[name]));
}

class Inspector {
  constructor(parent, css) {
    this.parent = parent;
    this.root = el("div", { class: "insp", tabindex: "0" });
    parent.append(el("style", {}, css), this.root);
    this.digest = null;
    this.current = [0, 0]; // the output cell shown when nothing is hovered
    this.hover = null; // {side: "in"|"out", i, j}
    this.timer = null;
    this.pinTimer = null;
    this.speed = 2;
    this.lit = [];
    this.root.addEventListener("keydown", (event) => this.onKey(event));
  }

  update(data, send) {
    this.send = send;
    this.serverPin = data.pinned;
    const rebuild = data.digest !== this.digest; // not for a pin coming back from the server
    this.data = data;
    if (rebuild) {
      this.build();
      this.digest = data.digest;
    }
    if (this.timer === null && this.pinTimer === null) this.current = this.clamp(data.pinned);
    this.render();
  }

  get rows() {
    return this.data.output ? this.data.output.rows : 0;
  }

  get cols() {
    return this.data.output ? this.data.output.cols : 0;
  }

  clamp([i, j]) {
    return [Math.min(Math.max(i, 0), Math.max(this.rows - 1, 0)), Math.min(Math.max(j, 0), Math.max(this.cols - 1, 0))];
  }

  // ---------------------------------------------------------------- building the DOM

  build() {
    this.stop(false);
    this.root.replaceChildren();
    this.lit = [];
    const data = this.data;
    this.root.classList.toggle("projector", Boolean(data.projector));
    data.scale.rgb = data.scale.colors.map(hexToRgb);
    const panels = el("div", { class: `panels panels-${data.mode}` });
    this.root.appendChild(panels);
    const width = Math.max(this.parent.host ? this.parent.host.clientWidth : this.root.clientWidth, 600);
    const panelWidth = Math.floor((width - 32) / 2);
    const input = data.input;
    const words = data.words;
    const inTitle = fill(words.input_title, { rows: input.rows, cols: input.cols });
    if (data.mode === "grid") {
      this.inPanel = this.gridPanel(panels, "in", input, inTitle, panelWidth, data.pad);
    } else {
      this.inPanel = this.picturePanel(panels, "in", input, inTitle);
    }
    if (data.output) {
      const outTitle = fill(words.output_title, { rows: data.output.rows, cols: data.output.cols });
      this.outPanel = data.mode === "grid"
        ? this.gridPanel(panels, "out", data.output, outTitle, panelWidth, 0)
        : this.picturePanel(panels, "out", data.output, outTitle);
    } else {
      this.outPanel = null;
    }
    if (data.channels.length === 0) this.root.appendChild(this.legend());
    this.status = el("div", { class: "status", "data-role": "status" });
    this.arithmetic = el("pre", { class: "arithmetic", "data-role": "arithmetic" });
    this.root.append(this.status, this.arithmetic);
    if (data.output) {
      this.readers = data.mode === "grid" ? this.readersOfInputs() : null;
      this.root.appendChild(this.controls());
      this.markUnread();
    }
  }

  gridPanel(panels, side, map, title, panelWidth, pad) {
    const panel = el("figure", { class: "panel" });
    panel.appendChild(el("figcaption", {}, title));
    const rows = map.rows + 2 * pad;
    const cols = map.cols + 2 * pad;
    const small = Math.max(rows, cols) <= 8;
    // The sizes come from inspector.css (larger in the projector view).
    const style = getComputedStyle(this.root);
    const css = (name) => Number(style.getPropertyValue(name));
    const size = Math.max(Math.min(Math.floor((panelWidth - cols + 1) / cols), css("--cell-max")),
      small ? css("--cell-small") : 5); // 1 px gaps
    const font = Math.min(css("--font-max"), Math.max(small ? 14 : 11, Math.round(size * 0.3)));
    const grid = el("div", { class: `grid grid-${side}`, "data-grid": side });
    grid.style.gridTemplateColumns = `repeat(${cols}, ${size}px)`;
    grid.style.gridAutoRows = `${size}px`;
    grid.style.fontSize = `${font}px`;
    // A fixed size makes the grid a layout boundary (contain: strict): new status text below it
    // does not lay out its thousands of cells again.
    grid.style.width = `${cols * (size + 1) - 1}px`;
    grid.style.height = `${rows * (size + 1) - 1}px`;
    const cells = new Map();
    for (let r = -pad; r < map.rows + pad; r++) {
      for (let c = -pad; c < map.cols + pad; c++) {
        const real = r >= 0 && c >= 0 && r < map.rows && c < map.cols;
        const cell = el("div", { "data-cell": real ? side : "pad", "data-row": r, "data-col": c });
        if (real) {
          const value = map.values[r][c];
          const rgb = colorOf(this.data.scale, value);
          cell.style.background = `rgb(${rgb.join(",")})`;
          cell.style.color = textOn(rgb);
          const text = map.text ? map.text[r][c] : "";
          cell.appendChild(el("span", { class: "v" }, text));
          cell.appendChild(el("span", { class: "w" }));
          cell.title = fill(this.data.words[side === "in" ? "input_cell" : "output_cell"],
            { cell: cellLabel(r, c), value: map.text ? text : value });
        }
        cells.set(`${r},${c}`, cell);
        grid.appendChild(cell);
      }
    }
    grid.addEventListener("pointerover", (event) => {
      const cell = event.target.closest("[data-cell]");
      if (!cell || cell.dataset.cell === "pad") return;
      this.setHover({ side, i: Number(cell.dataset.row), j: Number(cell.dataset.col) });
    });
    grid.addEventListener("pointerleave", () => this.setHover(null));
    if (side === "out") {
      grid.addEventListener("click", (event) => {
        const cell = event.target.closest("[data-cell='out']");
        if (cell) this.pinAt([Number(cell.dataset.row), Number(cell.dataset.col)], true);
      });
    }
    panel.appendChild(grid);
    panels.appendChild(panel);
    return { kind: "grid", cells, map };
  }

  picturePanel(panels, side, map, title) {
    const panel = el("figure", { class: "panel" });
    panel.appendChild(el("figcaption", {}, title));
    const box = el("div", { class: "picture", "data-picture": side });
    const image = el("img", { alt: title, draggable: "false" });
    image.src = map.picture; // a data: URI made by the server
    box.appendChild(image);
    const marks = el("div", { class: "marks" });
    box.appendChild(marks);
    const at = (event) => {
      const rect = image.getBoundingClientRect();
      const i = Math.floor(((event.clientY - rect.top) / rect.height) * map.rows);
      const j = Math.floor(((event.clientX - rect.left) / rect.width) * map.cols);
      return [Math.min(Math.max(i, 0), map.rows - 1), Math.min(Math.max(j, 0), map.cols - 1)];
    };
    box.addEventListener("pointermove", (event) => {
      const [i, j] = at(event);
      this.setHover({ side, i, j });
    });
    box.addEventListener("pointerleave", () => this.setHover(null));
    if (side === "out") box.addEventListener("click", (event) => this.pinAt(at(event), true));
    panel.appendChild(box);
    panels.appendChild(panel);
    return { kind: "picture", marks, map };
  }

  legend() {
    const { scale } = this.data;
    const legend = el("div", { class: "legend" });
    const bar = el("span", { class: "bar" });
    bar.style.background = `linear-gradient(to right, ${scale.colors.join(", ")})`;
    legend.append(el("span", {}, scale.minText), bar, el("span", {}, scale.maxText));
    return legend;
  }

  controls() {
    const bar = el("div", { class: "controls" });
    const words = this.data.words;
    this.buttons = {};
    for (const role of STEP_ROLES) {
      const button = el("button", { type: "button", "data-role": role }, words[role]);
      button.addEventListener("click", () => (role === "play" ? this.toggle() : this.step(role === "next" ? 1 : -1)));
      this.buttons[role] = button;
      bar.appendChild(button);
    }
    const speedLabel = el("label", { class: "speed" }, words.speed);
    this.speedInput = el("input", { type: "range", min: "1", max: "8", step: "1", value: String(this.speed),
      "data-role": "speed", "aria-label": words.speed_aria });
    this.speedText = el("span", {}, fill(words.per_second, { speed: this.speed }));
    this.speedInput.addEventListener("input", () => {
      this.speed = Number(this.speedInput.value);
      this.speedText.textContent = fill(words.per_second, { speed: this.speed });
      if (this.timer !== null) this.play();
    });
    speedLabel.append(this.speedInput, this.speedText);
    this.scrub = el("input", { type: "range", min: "0", max: String(this.rows * this.cols - 1), step: "1",
      value: "0", class: "scrub", "data-role": "scrub", "aria-label": words.scrub_aria });
    this.scrub.addEventListener("input", () => {
      const flat = Number(this.scrub.value);
      this.moveTo([Math.floor(flat / this.cols), flat % this.cols]);
    });
    bar.append(speedLabel, this.scrub);
    return bar;
  }

  // For every input cell, the output cells (flat indices) whose windows read it.
  readersOfInputs() {
    const readers = new Map();
    this.data.windows.forEach((area, flat) => {
      for (const [r, c, real] of area.cells) {
        if (!real) continue;
        const key = `${r},${c}`;
        if (!readers.has(key)) readers.set(key, []);
        readers.get(key).push(flat);
      }
    });
    return readers;
  }

  markUnread() {
    if (!this.readers) return;
    for (const [key, cell] of this.inPanel.cells) {
      if (cell.dataset.cell === "in" && !this.readers.has(key)) cell.dataset.unread = "1";
    }
  }

  // ---------------------------------------------------------------- what is shown

  setHover(hover) {
    const same = (a, b) => a === b || (a && b && a.side === b.side && a.i === b.i && a.j === b.j);
    if (same(hover, this.hover)) return;
    this.hover = hover;
    this.render();
  }

  render() {
    if (!this.data) return;
    this.clearLit();
    if (!this.data.output) {
      this.status.textContent = "";
      this.arithmetic.textContent = "";
      return;
    }
    if (this.hover && this.hover.side === "in") {
      this.showReaders(this.hover.i, this.hover.j);
    } else {
      const cell = this.hover ? [this.hover.i, this.hover.j] : this.current;
      this.showWindow(cell);
    }
    const flat = this.current[0] * this.cols + this.current[1];
    this.scrub.value = String(flat);
    this.markPinned();
  }

  clearLit() {
    for (const node of this.lit) {
      if (node.dataset) {
        delete node.dataset.lit;
        delete node.dataset.winner;
        delete node.dataset.current;
        delete node.dataset.gradient;
        const weight = node.querySelector(".w");
        if (weight) weight.textContent = "";
      }
    }
    if (this.inPanel && this.inPanel.kind === "picture") this.inPanel.marks.replaceChildren();
    if (this.outPanel && this.outPanel.kind === "picture") this.outPanel.marks.replaceChildren();
    this.lit = [];
  }

  light(node, attribute = "lit") {
    node.dataset[attribute] = "1";
    this.lit.push(node);
  }

  // Output (i, j): its window lit on the input, the winning cell marked, the arithmetic written out.
  showWindow([i, j]) {
    const details = this.detailsOf(i, j);
    const words = this.data.words;
    const playing = this.timer !== null ? words.playing : "";
    const pinned = this.isPinned(i, j) ? words.pinned : "";
    this.status.textContent = fill(words.output_status, { cell: cellLabel(i, j) }) + pinned + playing;
    if (this.outPanel.kind === "grid") {
      this.light(this.outPanel.cells.get(`${i},${j}`), "current");
      const [area] = details;
      area.cells.forEach(([r, c], k) => {
        const cell = this.inPanel.cells.get(`${r},${c}`);
        this.light(cell);
        const weight = cell.querySelector(".w");
        const share = area.weights ? area.weights[k] : null;
        if (weight && share !== null && this.inPanel.map.text) weight.textContent = `×${Number(share.toPrecision(3))}`;
      });
      if (area.winner) this.inPanel.cells.get(`${area.winner[0]},${area.winner[1]}`).dataset.winner = "1";
      if (area.gradient) this.showGradient(area.gradient);
    } else {
      this.mark(this.outPanel, [i, i], [j, j], "current");
      const [rows, cols] = this.windowSpan(i, j);
      this.mark(this.inPanel, rows, cols, "lit");
      if (details && details[0].winner) {
        const [r, c] = details[0].winner;
        this.mark(this.inPanel, [r, r], [c, c], "winner");
      }
    }
    if (details === null) {
      this.arithmetic.textContent = this.data.words.no_details;
    } else {
      const names = this.data.channels;
      this.arithmetic.textContent = details.map((d, k) => (names.length ? `${names[k]}: ` : "") + d.text).join("\n");
    }
  }

  // The input cells that output's gradient reaches, each with its share (d output / d input).
  showGradient(routes) {
    for (const [r, c, share] of routes) {
      const cell = this.inPanel.cells.get(`${r},${c}`);
      this.light(cell, "gradient");
      const weight = cell.querySelector(".w");
      if (weight && this.inPanel.map.text) weight.textContent = fill(this.data.words.gradient_share,
        { share: Number(share.toPrecision(3)) });
    }
    this.status.textContent += fill(this.data.words.gradient_reaches, { count: routes.length });
  }

  // Input (i, j): every output whose window reads it.
  showReaders(i, j) {
    let count;
    if (this.outPanel.kind === "grid") {
      this.light(this.inPanel.cells.get(`${i},${j}`), "current");
      const readers = this.readers.get(`${i},${j}`) || [];
      for (const flat of readers) {
        this.light(this.outPanel.cells.get(`${Math.floor(flat / this.cols)},${flat % this.cols}`));
      }
      count = readers.length;
    } else {
      this.mark(this.inPanel, [i, i], [j, j], "current");
      const outRows = this.readersAlong(this.data.geometry.rows, this.data.geometry.rowPresent, i);
      const outCols = this.readersAlong(this.data.geometry.cols, this.data.geometry.colPresent, j);
      count = outRows.length * outCols.length;
      if (count) this.mark(this.outPanel, [outRows[0], outRows.at(-1)], [outCols[0], outCols.at(-1)], "lit");
    }
    const read = count === 0 ? "read_by_none" : count === 1 ? "read_by_one" : "read_by_many";
    this.status.textContent = fill(this.data.words[read], { cell: cellLabel(i, j), count });
    this.arithmetic.textContent = "";
  }

  // The details of output (i, j): every cell's in grid mode, the pinned cell's only on pictures.
  detailsOf(i, j) {
    if (this.data.mode === "grid") return [this.data.windows[i * this.cols + j]];
    const [pi, pj] = this.data.pinned;
    return this.data.details && pi === i && pj === j ? this.data.details : null;
  }

  // Picture mode: the input rows and columns spanned by output (i, j)'s window, padding left out.
  windowSpan(i, j) {
    const { geometry, input } = this.data;
    const span = (index, present, limit) => {
      const inside = index.filter((v, k) => present[k] && v >= 0 && v < limit);
      return [Math.min(...inside), Math.max(...inside)];
    };
    return [span(geometry.rows[i], geometry.rowPresent[i], input.rows),
      span(geometry.cols[j], geometry.colPresent[j], input.cols)];
  }

  readersAlong(index, present, v) {
    const found = [];
    index.forEach((positions, k) => {
      if (positions.some((w, a) => w === v && present[k][a])) found.push(k);
    });
    return found;
  }

  mark(panel, [r0, r1], [c0, c1], kind) {
    const { rows, cols } = panel.map;
    const box = el("div", { class: `mark mark-${kind}` });
    box.style.top = `${(r0 / rows) * 100}%`;
    box.style.left = `${(c0 / cols) * 100}%`;
    box.style.height = `${((r1 - r0 + 1) / rows) * 100}%`;
    box.style.width = `${((c1 - c0 + 1) / cols) * 100}%`;
    panel.marks.appendChild(box);
  }

  isPinned(i, j) {
    return this.timer === null && this.current[0] === i && this.current[1] === j;
  }

  markPinned() {
    if (this.outPanel.kind !== "grid") return;
    if (this.pinnedCell) delete this.pinnedCell.dataset.pinned;
    this.pinnedCell = this.outPanel.cells.get(`${this.current[0]},${this.current[1]}`);
    this.pinnedCell.dataset.pinned = "1";
  }

  // ---------------------------------------------------------------- pinning, stepping, playing

  // Pin output ``cell`` here at once; Python hears of it now or, after steps, once they pause.
  pinAt(cell, now) {
    if (now) this.stop(false);
    this.current = this.clamp(cell);
    this.root.focus({ preventScroll: true });
    this.render();
    clearTimeout(this.pinTimer);
    this.pinTimer = null;
    if (now) this.sendPin();
    else this.pinTimer = setTimeout(() => this.sendPin(), PIN_DELAY_MS);
  }

  sendPin() {
    this.pinTimer = null;
    const [i, j] = this.current;
    if (this.serverPin[0] !== i || this.serverPin[1] !== j) this.send("pin", [i, j]);
  }

  moveTo(cell) {
    if (this.timer !== null) {
      this.current = this.clamp(cell);
      this.render();
    } else {
      this.pinAt(cell, false);
    }
  }

  step(delta) {
    const n = this.rows * this.cols;
    const flat = (((this.current[0] * this.cols + this.current[1] + delta) % n) + n) % n;
    this.moveTo([Math.floor(flat / this.cols), flat % this.cols]);
  }

  toggle() {
    if (this.timer === null) this.play();
    else this.stop(true);
  }

  play() {
    clearInterval(this.timer);
    clearTimeout(this.pinTimer);
    this.pinTimer = null;
    this.timer = setInterval(() => this.step(1), 1000 / this.speed);
    this.buttons.play.textContent = this.data.words.pause;
    this.buttons.play.setAttribute("aria-pressed", "true");
    this.render();
  }

  // Stop playing; ``pin`` sends the cell reached to Python.
  stop(pin) {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.buttons.play.textContent = this.data.words.play;
    this.buttons.play.setAttribute("aria-pressed", "false");
    if (pin) this.pinAt(this.current, true);
  }

  onKey(event) {
    if (!this.data || !this.data.output) return;
    const target = event.composedPath()[0];
    const tag = target && target.tagName;
    if (tag === "INPUT" || ((tag === "BUTTON") && (event.key === " " || event.key === "Enter"))) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: this.cols, ArrowUp: -this.cols };
    if (event.key in moves) this.step(moves[event.key]);
    else if (event.key === " ") this.toggle();
    else return;
    event.preventDefault();
  }

  destroy() {
    this.stop(false);
    clearTimeout(this.pinTimer);
    this.root.remove();
    views.delete(this.parent);
  }
}

function mount(css, { parentElement, data, setTriggerValue }) {
  let view = views.get(parentElement);
  if (!view) {
    view = new Inspector(parentElement, css);
    views.set(parentElement, view);
  }
  view.update(data, setTriggerValue);
  return () => view.destroy();
}

export default function library({ data }) {
  if (globalThis.poolscopeInspector) return;
  globalThis.poolscopeInspector = (args) => mount(data.css, args);
  window.dispatchEvent(new Event(READY));
}
