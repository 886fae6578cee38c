// www/js/zones.js -- the zone list (role, serial, source, replication badge) and the forms that make zones

import { api, zpath } from './api.js';
import { h, fill, flash, showError, clearErrors, field, lines, badge } from './dom.js';

const PAGE = 100;          // zones shown at once: a catalog may hold thousands
const DETAIL_JOBS = 6;     // zone views asked at once for the badges of the zones on screen

// The replication badge of a zone's view (GET /zones/{zone}): expired / failing / behind / in sync.
export function replicationBadge(z) {
  const s = z.secondary;
  if (z.state === 'expired') return { label: 'expired', kind: 'bad', title: 'past its EXPIRE: answering SERVFAIL' };
  if (s && s.last_result && !/^ok/i.test(s.last_result))
    return { label: 'failing', kind: 'bad', title: s.last_result };
  if (z.state === 'empty') return { label: 'no data yet', kind: 'warn' };
  const peers = (z.primary && z.primary.secondaries) || [];
  const behind = peers.filter((p) => p.lag !== null && p.lag !== undefined && p.lag > 0);
  if (behind.length)
    return { label: 'behind', kind: 'warn',
             title: behind.map((p) => `${p.address}: ${p.lag} serial(s) behind`).join('\n') };
  if (s) return { label: 'in sync', kind: 'ok', title: s.last_result || '' };
  if (peers.length) return { label: 'in sync', kind: 'ok', title: `${peers.length} secondaries at our serial` };
  return { label: 'no secondaries seen', kind: 'none' };
}

export async function zonesPage(el) {
  const { data } = await api('GET', 'zones');
  const zones = (data.zones || []).slice().sort((a, b) => a.name.localeCompare(b.name));
  let page = 0, shown = zones;
  let stop = false;
  const filter = h('input', { type: 'search', placeholder: 'Filter zones', 'data-filter': true,
                              'aria-label': 'Filter zones', on: { input: () => { page = 0; draw(); } } });
  const body = h('tbody');
  const pager = h('div.pager');
  fill(el,
    h('div.bar', h('h1', 'Zones'), h('span.muted', `${zones.length} zones`), h('span.grow'), filter,
      h('a.button.primary', { href: '#/new' }, 'New zone')),
    h('table.grid.zones', h('thead', h('tr', ['Zone', 'Role', 'Serial', 'Records', 'Source', 'Replication']
      .map((t) => h('th', t)))), body),
    pager);

  function draw() {
    const q = filter.value.trim().toLowerCase();
    shown = q ? zones.filter((z) => z.name.includes(q) || (z.source || '').toLowerCase().includes(q)) : zones;
    const slice = shown.slice(page * PAGE, page * PAGE + PAGE);
    fill(body, slice.length ? slice.map(row) : h('tr', h('td.muted', { colspan: 6 },
      zones.length ? 'No zone matches.' : 'No zones yet: make one with "New zone".')));
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    fill(pager, pages > 1 ? [
      h('button', { type: 'button', disabled: page === 0, on: { click: () => { page--; draw(); } } }, 'Previous'),
      h('span.muted', `page ${page + 1} of ${pages}`),
      h('button', { type: 'button', disabled: page + 1 >= pages, on: { click: () => { page++; draw(); } } }, 'Next'),
    ] : []);
    badges(slice);
  }

  function row(z) {
    z.badgeCell = h('td.badge-cell', h('span.muted', '...'));
    return h('tr', { dataset: { zone: z.name } },
      h('td', h('a', { href: '#/zone/' + encodeURIComponent(z.name) }, z.name)),
      h('td', z.type), h('td.num', z.serial ?? '-'), h('td.num', z.records),
      h('td', z.source), z.badgeCell);
  }

  // The badges need each zone's view: asked only for the zones on screen, a few at a time.
  async function badges(slice) {
    const todo = slice.slice();
    const worker = async () => {
      while (!stop && todo.length) {
        const z = todo.shift();
        try {
          const { data: v } = await api('GET', zpath(z.name));
          fill(z.badgeCell, badge(replicationBadge(v)));
        } catch (e) {
          fill(z.badgeCell, h('span.muted', e.message));
        }
      }
    };
    await Promise.all(Array.from({ length: DETAIL_JOBS }, worker));
  }

  draw();
  return () => { stop = true; };
}

// Quick zone (name servers + address: SOA, NS, A, www, MX) and new zone (primary from zone text, or
// secondary from its primaries). Both POST /zones; a 422 is shown beside the field it names.
export function newZonePage(el) {
  const quick = quickForm(), full = newForm();
  fill(el, h('div.bar', h('h1', 'New zone'), h('span.grow'), h('a', { href: '#/zones' }, 'Back to the zones')),
    h('div.columns', quick, full));
  quick.querySelector('input').focus();
}

async function create(form, body) {
  clearErrors(form);
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const { data } = await api('POST', 'zones', { body });
    const name = (data && data.name) || body.name;
    flash(`Zone ${name} created.`);
    location.hash = '#/zone/' + encodeURIComponent(name);
  } catch (e) {
    if (e.status !== 401) showError(form, e);
  } finally {
    button.disabled = false;
  }
}

function quickForm() {
  const name = h('input#quick-name', { required: true, placeholder: 'example.com', 'data-field': 'name' });
  const ns = h('input#quick-ns', { required: true, placeholder: 'ns1.example.com, ns2.example.com',
                                   'data-field': 'quick.nameservers' });
  const addr = h('input#quick-address', { placeholder: '192.0.2.10', 'data-field': 'quick.address' });
  const form = h('form.card#quick-zone', { on: { submit: (ev) => {
    ev.preventDefault();
    const quickPart = { nameservers: lines(ns.value) };
    if (addr.value.trim()) quickPart.address = addr.value.trim();
    create(form, { name: name.value.trim(), type: 'primary', quick: quickPart });
  } } },
    h('h2', 'Quick zone'),
    h('p.muted', 'A primary zone ready to answer: SOA, NS, the address at the apex and www, MX.'),
    field('Zone name', name),
    field('Name servers', ns, 'comma-separated; the first is the SOA\'s primary name server'),
    field('Address', addr, 'IPv4 or IPv6 of the apex and www'),
    h('button.primary', { type: 'submit' }, 'Create quick zone'));
  return form;
}

function newForm() {
  const name = h('input#new-name', { required: true, placeholder: 'example.org', 'data-field': 'name' });
  const role = h('select#new-type', { 'data-field': 'type' },
    h('option', { value: 'secondary' }, 'Secondary: transferred from its primaries'),
    h('option', { value: 'primary' }, 'Primary: from zone file text'));
  const primaries = h('textarea#new-primaries', { rows: 2, placeholder: '192.0.2.1@53', 'data-field': 'primaries' });
  const key = h('input#new-key', { placeholder: 'TSIG key name (optional)', 'data-field': 'key' });
  const text = h('textarea#new-zonefile.mono', { rows: 10, 'data-field': 'zonefile',
    placeholder: '$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ NS ns1\nns1 A 192.0.2.1' });
  const notify = h('textarea#new-notify', { rows: 2, placeholder: '192.0.2.2@53 (optional)', 'data-field': 'notify' });
  const sec = h('div', field('Primaries', primaries, 'address@port, one a line'), field('TSIG key', key));
  const pri = h('div', { hidden: true }, field('Zone file', text));
  role.addEventListener('change', () => {
    sec.hidden = role.value !== 'secondary';
    pri.hidden = role.value !== 'primary';
  });
  const form = h('form.card#new-zone', { on: { submit: (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim(), type: role.value };
    if (role.value === 'secondary') {
      body.primaries = lines(primaries.value);
      if (key.value.trim()) body.key = key.value.trim();
    } else {
      body.zonefile = text.value;
    }
    if (notify.value.trim()) body.notify = lines(notify.value);
    create(form, body);
  } } },
    h('h2', 'New zone'),
    field('Zone name', name), field('Role', role), sec, pri,
    field('Notify', notify, 'secondaries told of each change, address@port, one a line'),
    h('button.primary', { type: 'submit' }, 'Create zone'));
  return form;
}
