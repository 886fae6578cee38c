// www/js/records.js -- the records window: filter, cursor paging (never the whole zone), inline add, edit,
// delete through one PATCH each, with the page's ETag in If-Match so a stale page changes nothing

import { api, zpath } from './api.js';
import { h, fill, flash, showError, clearErrors, $ } from './dom.js';

const LIMIT = 100;
const TYPES = ['A', 'AAAA', 'CAA', 'CNAME', 'DNAME', 'DS', 'HTTPS', 'MX', 'NAPTR', 'NS', 'PTR', 'SOA', 'SRV',
               'SSHFP', 'SVCB', 'TLSA', 'TXT'];

// "www" -> "www.example.com.", "@" or "" -> the apex, "a.b." stays.
export function absName(name, zone) {
  name = name.trim();
  if (name === '' || name === '@') return zone;
  if (name.endsWith('.')) return name;
  return name + '.' + zone;
}

export async function recordsTab(el, zone, info) {
  const st = { cursors: [null], etag: null, serial: null, rows: [], filter: {} };
  const fName = h('input#filter-name', { type: 'search', placeholder: 'name', 'aria-label': 'Name', 'data-filter': true });
  const fType = h('select#filter-type', { 'aria-label': 'Type' }, h('option', { value: '' }, 'any type'),
    TYPES.map((t) => h('option', { value: t }, t)));
  const fQ = h('input#filter-q', { type: 'search', placeholder: 'contains', 'aria-label': 'Contains' });
  const filters = h('form.filters', { on: { submit: (ev) => {
    ev.preventDefault();
    st.filter = { name: fName.value.trim(), type: fType.value, q: fQ.value.trim() };
    st.cursors = [null];
    load();
  } } }, fName, fType, fQ, h('button', { type: 'submit' }, 'Filter'),
    h('button#add-record.primary', { type: 'button', on: { click: () => openAdd() } }, 'Add record'));
  const note = h('div.note');
  const addSlot = h('div');
  const body = h('tbody');
  const prev = h('button#records-prev', { type: 'button', on: { click: () => { st.cursors.pop(); load(); } } }, 'Previous');
  const next = h('button#records-next', { type: 'button', on: { click: () => { st.cursors.push(st.next); load(); } } }, 'Next');
  const pageInfo = h('span.muted');
  const editable = info.type === 'primary';
  fill(el, filters, note, addSlot,
    h('table.grid.records', h('thead', h('tr', ['Name', 'Type', 'TTL', 'Data', ''].map((t) => h('th', t)))), body),
    h('div.pager', prev, pageInfo, next));
  if (!editable) {
    filters.querySelector('#add-record').hidden = true;
    fill(note, h('p.muted', 'A secondary zone: its records come from its primaries and are read-only here.'));
  }

  el.onkeydown = (ev) => {
    if (ev.key === 'Escape') { load(); }
  };

  async function load() {
    const t0 = performance.now();
    const cursor = st.cursors[st.cursors.length - 1];
    try {
      const { data, etag } = await api('GET', zpath(zone, 'records'),
        { query: { ...st.filter, limit: LIMIT, cursor } });
      st.etag = etag;
      st.serial = data.serial;
      st.next = data.next;
      st.rows = [];
      for (const rs of data.rrsets || [])
        (rs.records || []).forEach((rd, i) => st.rows.push({ rs, i, rd }));
      fill(body, st.rows.length ? st.rows.map(row) :
        h('tr', h('td.muted', { colspan: 5 }, 'No records match.')));
      prev.disabled = st.cursors.length <= 1;
      next.disabled = !data.next;
      fill(pageInfo, `page ${st.cursors.length}, serial ${data.serial ?? '?'}, ${Math.round(performance.now() - t0)} ms`);
    } catch (e) {
      if (e.status !== 401) fill(body, h('tr', h('td.error', { colspan: 5 }, e.message)));
    }
  }

  function row(r) {
    const del = h('button.small.danger', { type: 'button', 'data-action': 'delete', on: { click: () => {
      if (del.dataset.armed) return remove(r, tr);
      del.dataset.armed = '1';
      del.textContent = 'Confirm delete';
      setTimeout(() => { delete del.dataset.armed; del.textContent = 'Delete'; }, 5000);
    } } }, 'Delete');
    const tr = h('tr', { dataset: { name: r.rs.name, type: r.rs.type } },
      h('td.name', r.rs.name), h('td', r.rs.type), h('td.num', r.rs.ttl), h('td.rdata.mono', r.rd),
      h('td.actions', editable && r.rs.type !== 'SOA' ?
        [h('button.small', { type: 'button', 'data-action': 'edit', on: { click: () => edit(r, tr) } }, 'Edit'), del] :
        editable ? h('button.small', { type: 'button', 'data-action': 'edit', on: { click: () => edit(r, tr) } }, 'Edit') : null));
    return tr;
  }

  // One PATCH with the page's ETag; on success the page is read again (its new serial and ETag).
  async function patch(form, rrsets) {
    clearErrors(form);
    try {
      await api('PATCH', zpath(zone, 'records'), { body: { rrsets }, ifMatch: st.etag });
      await load();
      return true;
    } catch (e) {
      if (e.status === 412) {
        showError(form, { message: 'The zone changed since this page was read: nothing was saved. ' +
                                   'Press Escape to read it again, then redo the change.' });
      } else if (e.status !== 401) {
        showError(form, e);
      }
      return false;
    }
  }

  function edit(r, tr) {
    const ttl = h('input.ttl', { value: r.rs.ttl, inputmode: 'numeric', 'aria-label': 'TTL', 'data-field': 'rrsets[0].ttl' });
    const rd = h('input.rdata.mono', { value: r.rd, 'aria-label': 'Data', 'data-field': `rrsets[0].records[${r.i}]` });
    const form = h('form.edit-row', { 'data-field': 'rrsets[0]', on: {
      submit: async (ev) => {
        ev.preventDefault();
        const records = r.rs.records.slice();
        records[r.i] = rd.value.trim();
        if (await patch(form, [{ name: r.rs.name, type: r.rs.type, ttl: Number(ttl.value),
                                 changetype: 'replace', records }]))
          flash(`${r.rs.name} ${r.rs.type} saved.`);
      },
      keydown: (ev) => { if (ev.key === 'Escape') { ev.stopPropagation(); tr.replaceWith(row(r)); } },
    } },
    h('span.name', r.rs.name), h('span.type', r.rs.type), ttl, rd,
    h('button.small.primary', { type: 'submit' }, 'Save'),
    h('button.small', { type: 'button', on: { click: () => tr.replaceWith(row(r)) } }, 'Cancel'));
    const editTr = h('tr.editing', h('td', { colspan: 5 }, form));
    tr.replaceWith(editTr);
    tr = editTr;
    rd.focus();
  }

  async function remove(r, tr) {
    const form = h('form.edit-row');
    const cell = tr.querySelector('td.actions');
    cell.append(form);
    if (await patch(form, [{ name: r.rs.name, type: r.rs.type, changetype: 'remove', records: [r.rd] }]))
      flash(`${r.rd} removed from ${r.rs.name} ${r.rs.type}.`);
  }

  function openAdd() {
    if ($('#add-form', addSlot)) { $('#add-name', addSlot).focus(); return; }
    const name = h('input#add-name', { placeholder: 'name (www, @)', 'aria-label': 'Name', 'data-field': 'rrsets[0].name' });
    const type = h('input#add-type', { list: 'rr-types', value: 'A', 'aria-label': 'Type', 'data-field': 'rrsets[0].type' });
    const ttl = h('input#add-ttl.ttl', { value: '3600', inputmode: 'numeric', 'aria-label': 'TTL', 'data-field': 'rrsets[0].ttl' });
    const rd = h('input#add-rdata.rdata.mono', { placeholder: 'data (192.0.2.1)', 'aria-label': 'Data', 'data-field': 'rrsets[0].records' });
    const close = () => { addSlot.replaceChildren(); };
    const form = h('form.edit-row.card#add-form', { on: {
      submit: async (ev) => {
        ev.preventDefault();
        const n = absName(name.value, zone), t = type.value.trim().toUpperCase();
        if (await patch(form, [{ name: n, type: t, ttl: Number(ttl.value), changetype: 'add',
                                 records: [rd.value.trim()] }])) {
          flash(`${n} ${t} ${rd.value.trim()} added.`);
          rd.value = '';
          name.focus();
        }
      },
      keydown: (ev) => { if (ev.key === 'Escape') { ev.stopPropagation(); close(); } },
    } },
    name, type, h('datalist#rr-types', TYPES.map((t) => h('option', { value: t }))), ttl, rd,
    h('button.small.primary#add-save', { type: 'submit' }, 'Add'),
    h('button.small', { type: 'button', on: { click: close } }, 'Close'));
    fill(addSlot, form);
    name.focus();
  }

  // "n" opens the add form (when not typing).
  const onKey = (ev) => {
    const t = ev.target;
    if (ev.key === 'n' && editable && !ev.ctrlKey && !ev.metaKey && !/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) {
      ev.preventDefault();
      openAdd();
    }
  };
  document.addEventListener('keydown', onKey);
  await load();
  return () => document.removeEventListener('keydown', onKey);
}
