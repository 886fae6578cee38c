// www/js/dom.js -- building the page: elements from data (never HTML from data), times, small widgets

// h('tag.class#id', {attrs, on: {event: fn}}, children...): an element; strings become text nodes.
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m ? m[1] : spec);
  if (m) for (const part of m[2].match(/[.#][\w-]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces the children of el.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

// Unix seconds -> "2026-05-01 12:00:03 (3 min ago)"; null -> "never".
export function when(t) {
  if (t === null || t === undefined || t === 0) return 'never';
  const d = new Date(t * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  const abs = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
              `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${abs} (${ago(t)})`;
}

export function ago(t) {
  const s = Math.round(Date.now() / 1000 - t);
  if (s < 0) return 'in ' + span(-s);
  return span(s) + ' ago';
}

export function span(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

// A message at the top of the page (kind: 'ok' or 'error'); gone after a while or on the next one.
let flashTimer = null;
export function flash(text, kind = 'ok') {
  const el = document.getElementById('flash');
  fill(el, h('div.flash.' + kind, text));
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => el.replaceChildren(), kind === 'error' ? 12000 : 4000);
}

// Errors of a form: err.field (from a 422) shown beside the input whose data-field is the longest
// prefix of it, else at the top of the form. Returns the element it was shown beside.
export function showError(form, err) {
  clearErrors(form);
  const msg = err.message || String(err);
  let best = null;
  if (err.field) {
    for (const el of $$('[data-field]', form)) {
      const f = el.dataset.field;
      if ((err.field === f || err.field.startsWith(f + '.') || err.field.startsWith(f + '[')) &&
          (!best || f.length > best.dataset.field.length)) best = el;
    }
  }
  const note = h('div.field-error', { role: 'alert' }, msg);
  if (best) {
    best.classList.add('invalid');
    best.setAttribute('aria-invalid', 'true');
    best.insertAdjacentElement('afterend', note);
    best.focus();
  } else {
    form.prepend(note);
  }
  return best;
}

export function clearErrors(form) {
  for (const el of $$('.field-error', form)) el.remove();
  for (const el of $$('.invalid', form)) {
    el.classList.remove('invalid');
    el.removeAttribute('aria-invalid');
  }
}

// A labelled input for forms: field(label, input, help).
export function field(label, input, help) {
  return h('label.field', h('span.label', label), input, help ? h('span.help', help) : null);
}

// Lines of a textarea -> a list without blanks.
export function lines(text) {
  return text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
}

// A replication badge: {label, kind} -> a span.
export function badge(b) {
  return h('span.badge.' + b.kind, { title: b.title || b.label }, b.label);
}
