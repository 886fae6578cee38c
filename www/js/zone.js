// www/js/zone.js -- one zone: its header and actions, and the tabs (records, replication, properties,
// history, zone text)

import { api, zpath } from './api.js';
import { h, fill, flash, badge, when } from './dom.js';
import { replicationBadge } from './zones.js';
import { recordsTab } from './records.js';
import { replicationTab, propertiesTab, historyTab, textTab } from './zonetabs.js';

const TABS = [
  ['records', 'Records', recordsTab],
  ['replication', 'Replication', replicationTab],
  ['properties', 'Properties', propertiesTab],
  ['history', 'History', historyTab],
  ['text', 'Zone text', textTab],
];

export async function zonePage(el, [zone, tab]) {
  tab = tab || 'records';
  const { data: info } = await api('GET', zpath(zone));
  zone = info.name || zone;
  const head = h('div.zone-head');
  const content = h('section.tab#tab-' + tab);
  const href = (t) => `#/zone/${encodeURIComponent(zone)}/${t}`;
  fill(el, head,
    h('nav.tabs', { role: 'tablist' }, TABS.map(([id, label]) =>
      h('a', { href: href(id), role: 'tab', 'aria-selected': String(id === tab), class: id === tab ? 'current' : null,
               dataset: { tab: id } }, label))),
    content);
  drawHead(head, zone, info);
  const entry = TABS.find(([id]) => id === tab);
  if (!entry) { fill(content, h('p.error', 'No such tab.')); return null; }
  return entry[2](content, zone, info, (fresh) => drawHead(head, zone, fresh));
}

function action(zone, what, label, title) {
  return h('button.small', { type: 'button', title, on: { click: async (ev) => {
    ev.target.disabled = true;
    try {
      const { data } = await api('POST', zpath(zone, what));
      flash(`${label}: ${(data && data.result) || 'started'}`);
    } catch (e) {
      if (e.status !== 401) flash(`${label}: ${e.message}`, 'error');
    } finally {
      ev.target.disabled = false;
    }
  } } }, label);
}

function drawHead(head, zone, info) {
  const isSecondary = info.type === 'secondary';
  fill(head,
    h('div.bar', h('h1', zone), badge(replicationBadge(info)), h('span.grow'),
      isSecondary ? [action(zone, 'refresh', 'Refresh', 'ask the primaries for the SOA now, transfer when behind'),
                     action(zone, 'retransfer', 'Retransfer', 'a full AXFR now')]
                  : (info.source === 'config' ? action(zone, 'reload', 'Reload file', 're-read the zone file') : null),
      action(zone, 'notify', 'Notify', 'NOTIFY the secondaries now'),
      deleteButton(zone, info)),
    h('dl.facts',
      h('dt', 'Role'), h('dd#zone-role', info.type),
      h('dt', 'Serial'), h('dd#zone-serial', info.serial ?? '-'),
      h('dt', 'Records'), h('dd', info.records ?? '-'),
      h('dt', 'State'), h('dd', info.state),
      h('dt', 'Source'), h('dd', info.source),
      isSecondary ? [h('dt', 'Last refresh'), h('dd', when(info.secondary.last_refresh))] : null));
}

function deleteButton(zone, info) {
  if (info.source === 'config' || (info.source || '').startsWith('catalog')) return null;
  const b = h('button.small.danger', { type: 'button', on: { click: async () => {
    if (!b.dataset.armed) {
      b.dataset.armed = '1';
      b.textContent = 'Really delete the zone?';
      setTimeout(() => { delete b.dataset.armed; b.textContent = 'Delete zone'; }, 5000);
      return;
    }
    try {
      await api('DELETE', zpath(zone));
      flash(`Zone ${zone} deleted.`);
      location.hash = '#/zones';
    } catch (e) {
      if (e.status !== 401) flash(e.message, 'error');
    }
  } } }, 'Delete zone');
  return b;
}
