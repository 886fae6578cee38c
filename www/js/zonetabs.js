// www/js/zonetabs.js -- a zone's other tabs: replication (live), properties, history with revert, zone text

import { api, zpath } from './api.js';
import { h, fill, flash, showError, clearErrors, field, lines, when, ago } from './dom.js';

const LIVE_MS = 3000;           // the replication view is read again this often while on screen
const TEXT_AUTOLOAD = 20000;    // zones with more records load their text only when asked

// Each secondary with its serial, lag and last transfer; for a secondary zone, its primaries and timers.
export function replicationTab(el, zone, info, redrawHead) {
  let timer = null, stopped = false;
  const draw = (v) => {
    const s = v.secondary, p = v.primary || { notify: [], secondaries: [] };
    fill(el,
      s ? h('div.card',
        h('h2', 'From the primaries'),
        h('dl.facts',
          h('dt', 'Primaries'), h('dd', (s.primaries || []).join(', ') || '-'),
          h('dt', 'Primary used'), h('dd', s.primary_used || '-'),
          h('dt', 'Last refresh'), h('dd', when(s.last_refresh)),
          h('dt', 'Last result'), h('dd#last-result', s.last_result || '-'),
          h('dt', 'Next refresh'), h('dd', when(s.next_refresh)),
          h('dt', 'Expires'), h('dd', s.expires_at ? when(s.expires_at) : '-'))) : null,
      h('div.card',
        h('h2', 'To the secondaries'),
        h('p.muted', `Our serial: `, h('strong#our-serial', v.serial ?? '-'), '. Notify: ',
          (p.notify || []).join(', ') || 'nobody configured',
          '. Read again every few seconds.'),
        p.reload && p.reload.state !== 'none'
          ? h('p.muted#last-reload', 'Last reload of the zone file: ',
            p.reload.state === 'reading' ? 'reading it now' : `${p.reload.last_result} (${ago(p.reload.last_at)})`)
          : null,
        h('table.grid#secondaries',
          h('thead', h('tr', ['Secondary', 'Serial', 'Lag', 'Last seen', 'Last transfer'].map((t) => h('th', t)))),
          h('tbody', (p.secondaries || []).length ? p.secondaries.map((x) =>
            h('tr', { dataset: { address: x.address } },
              h('td', x.address), h('td.num.serial', x.serial ?? 'unknown'),
              h('td.num.lag', { class: x.lag > 0 ? 'warn' : null }, x.lag ?? '?'),
              h('td', x.last_seen ? `${ago(x.last_seen)} (${x.seen_by})` : '-'),
              h('td', x.last_transfer ? `${x.last_transfer_type} ${ago(x.last_transfer)}` : 'none')))
            : h('tr', h('td.muted', { colspan: 5 }, 'No secondary seen yet (they show up when they ask for the SOA, a transfer, or answer a NOTIFY).'))))));
  };
  const tick = async () => {
    try {
      const { data } = await api('GET', zpath(zone));
      if (stopped) return;
      draw(data);
      redrawHead(data);
    } catch (e) {
      if (e.status === 401) return;
      flash(e.message, 'error');
    }
    if (!stopped) timer = setTimeout(tick, LIVE_MS);
  };
  draw(info);
  timer = setTimeout(tick, LIVE_MS);
  return () => { stopped = true; clearTimeout(timer); };
}

// Role, primaries, key, notify, ACLs, catalog, serial policy: PATCH /zones/{zone} with what changed.
// An ACL line: a configured ACL's name, or "ALLOW[,ALLOW] ADDRESS... [key KEY...]" (an ACL of its own).
export function aclParse(line) {
  const t = line.trim().split(/\s+/);
  if (t.length === 1) return t[0];
  const k = t.indexOf('key');
  return { allow: t[0].split(','), addresses: t.slice(1, k < 0 ? undefined : k),
           keys: k < 0 ? [] : t.slice(k + 1) };
}

export function aclText(a) {
  if (typeof a === 'string') return a;
  return [(a.allow || []).join(','), ...(a.addresses || []), ...((a.keys || []).length ? ['key', ...a.keys] : [])].join(' ');
}

export function propertiesTab(el, zone, info) {
  const sec = info.secondary || {};
  const cat = info.catalog || {};
  const set = info.settings || {};     // a zone made through the API: its settings as stored
  const strip = (list) => (list || []).map((x) => x.includes(' ') ? x.split(' ').slice(1).join(' ') : x);
  const initial = {
    type: set.type || info.type,
    primaries: (set.primaries || strip(sec.primaries)).join('\n'),
    key: set.key || '',
    notify: (set.notify || strip((info.primary || {}).notify)).join('\n'),
    acl: (set.acl || []).map(aclText).join('\n'),
    member_of: set.member_of || cat.catalog || '',
    group: set.group || cat.group || '',
    serial_policy: set.serial_policy || '',
    notify_delay: set.notify_delay == null ? '' : String(set.notify_delay),
  };
  const inputs = {
    type: h('select#prop-type', { 'data-field': 'type' }, ['primary', 'secondary'].map((t) =>
      h('option', { value: t, selected: t === initial.type }, t))),
    primaries: h('textarea#prop-primaries', { rows: 2, 'data-field': 'primaries', value: initial.primaries }),
    key: h('input#prop-key', { 'data-field': 'key', value: initial.key }),
    notify: h('textarea#prop-notify', { rows: 2, 'data-field': 'notify', value: initial.notify }),
    acl: h('textarea#prop-acl', { rows: 2, 'data-field': 'acl', value: initial.acl }),
    member_of: h('input#prop-member-of', { 'data-field': 'member_of', value: initial.member_of }),
    group: h('input#prop-group', { 'data-field': 'group', value: initial.group }),
    serial_policy: h('select#prop-serial-policy', { 'data-field': 'serial_policy' },
      ['', 'increment', 'unixtime', 'dateserial'].map((t) =>
        h('option', { value: t, selected: t === initial.serial_policy }, t || '(server default)'))),
    notify_delay: h('input#prop-notify-delay', { type: 'number', min: 0, max: 60, 'data-field': 'notify_delay',
      value: initial.notify_delay, placeholder: '(server default)' }),
  };
  // Seconds: a number for the API, empty for the server's default (null); anything else is the API's to refuse.
  const seconds = (v) => v === '' ? null : /^\d+$/.test(v) ? Number(v) : v;
  const listFields = new Set(['primaries', 'notify', 'acl']);
  const form = h('form.card#properties', { on: { submit: async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {};
    for (const [k, input] of Object.entries(inputs))
      if (input.value !== initial[k])
        body[k] = k === 'acl' ? input.value.split('\n').filter((l) => l.trim()).map(aclParse)
                : listFields.has(k) ? lines(input.value)
                : k === 'notify_delay' ? seconds(input.value.trim()) : input.value.trim();
    if (!Object.keys(body).length) { flash('Nothing changed.'); return; }
    try {
      await api('PATCH', zpath(zone), { body });
      flash('Properties saved.');
      Object.assign(initial, Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value])));
    } catch (e) {
      if (e.status !== 401) showError(form, e);
    }
  } } },
    h('h2', 'Properties'),
    info.source === 'config' ? h('p.muted', 'This zone comes from the configuration file: change it there (the API answers 409 naming the line).') : null,
    field('Role', inputs.type, 'primary <-> secondary keeps the data'),
    field('Primaries', inputs.primaries, 'a secondary\'s primaries, address@port, one a line'),
    field('TSIG key', inputs.key, 'the key transfers from the primaries are signed with'),
    field('Notify', inputs.notify, 'secondaries told of each change, address@port, one a line'),
    field('ACLs', inputs.acl, 'one a line: a configured ACL\'s name, or "transfer,notify 192.0.2.2 10.0.0.0/8 key k."'),
    field('Catalog', inputs.member_of, 'the catalog zone this zone is a member of'),
    field('Catalog group', inputs.group),
    field('Serial policy', inputs.serial_policy),
    field('NOTIFY delay', inputs.notify_delay, 'seconds the changes after a NOTIFY wait to be told together; 0: each at once; empty: the server\'s notify-delay'),
    h('button.primary', { type: 'submit' }, 'Save properties'));
  fill(el, form);
}

// One change's diff: a string ("-old\n+new") or {removed: [...], added: [...]}.
function diffView(d) {
  const out = [];
  if (typeof d === 'string') {
    for (const l of d.split('\n')) out.push(h('div', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : null }, l));
  } else if (d && typeof d === 'object') {
    for (const r of d.removed || []) out.push(h('div.del', '- ' + (typeof r === 'string' ? r : JSON.stringify(r))));
    for (const r of d.added || []) out.push(h('div.add', '+ ' + (typeof r === 'string' ? r : JSON.stringify(r))));
  }
  return h('pre.diff', out.length ? out : h('span.muted', '(no diff kept)'));
}

export async function historyTab(el, zone, info) {
  const list = h('div.history');
  const more = h('button', { type: 'button', hidden: true }, 'Older changes');
  let cursor = null;
  fill(el, h('p.muted', 'Every change to the zone, newest first: who made it and what it did. Revert makes a new change that undoes one.'), list, more);
  async function load() {
    const { data } = await api('GET', zpath(zone, 'changes'), { query: { before: cursor, limit: 50 } });
    const changes = Array.isArray(data) ? data : data.changes || [];
    for (const c of changes) list.append(entry(c));
    if (!list.children.length) list.append(h('p.muted', 'No change recorded yet.'));
    cursor = data.next || null;
    more.hidden = !cursor;
  }
  function entry(c) {
    const from = c.serial_from ?? c.from_serial ?? (c.serials && c.serials[0]);
    const to = c.serial_to ?? c.to_serial ?? (c.serials && c.serials[1]);
    const revert = h('button.small', { type: 'button', on: { click: async () => {
      if (!revert.dataset.armed) {
        revert.dataset.armed = '1';
        revert.textContent = 'Confirm revert';
        return;
      }
      try {
        await api('POST', zpath(zone, 'changes', String(c.id), 'revert'));
        flash(`Change ${c.id} reverted.`);
        list.replaceChildren();
        cursor = null;
        await load();
      } catch (e) {
        if (e.status !== 401) flash(e.message, 'error');
      }
    } } }, 'Revert');
    return h('details.change', { dataset: { id: c.id } },
      h('summary', h('strong', `#${c.id}`), ' ', c.time ? when(c.time) : '', ' ',
        h('span.who', c.who || c.by || ''), ' ', from !== undefined ? `serial ${from} -> ${to}` : '',
        info.type === 'primary' ? revert : null),
      diffView(c.diff ?? (c.removed || c.added ? { removed: c.removed, added: c.added } : null)));
  }
  more.addEventListener('click', () => load().catch((e) => flash(e.message, 'error')));
  await load();
}

// The zone as master-file text, saved whole with If-Match (the server turns it into the minimal diff).
export async function textTab(el, zone, info) {
  const area = h('textarea#zone-text.mono', { rows: 30, spellcheck: 'false', 'data-field': 'text', 'aria-label': 'Zone text' });
  let etag = null;
  const save = h('button.primary', { type: 'submit', disabled: info.type !== 'primary' }, 'Save zone text');
  const form = h('form.card#text-form', { on: { submit: async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const r = await api('PUT', zpath(zone, 'text'), { text: area.value, ifMatch: etag });
      flash('Zone text saved.');
      await load(r.etag);
    } catch (e) {
      if (e.status === 412) showError(form, { message: 'The zone changed since the text was read: nothing was saved. Copy your edit, then load the text again.' });
      else if (e.status !== 401) {
        showError(form, { message: e.message, field: 'text' });
        const m = /^(?:line )?(\d+):/.exec(e.message);
        if (m) gotoLine(area, Number(m[1]));
      }
    }
  } } }, area, h('div.bar', save, h('span.muted', info.type === 'primary' ? 'Errors name the line.' : 'A secondary zone: read-only.')));
  async function load() {
    const r = await api('GET', zpath(zone, 'text'));
    etag = r.etag;
    area.value = r.data;
  }
  if ((info.records || 0) > TEXT_AUTOLOAD) {
    fill(el, h('div.card', h('p', `This zone holds ${info.records} records: its text is large.`),
      h('button', { type: 'button', on: { click: async () => { fill(el, form); await load(); } } }, 'Load the zone text')));
  } else {
    fill(el, form);
    await load();
  }
}

function gotoLine(area, n) {
  const ls = area.value.split('\n');
  const start = ls.slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (ls[n - 1] || '').length);
}
