// www/js/lookup.js -- ask any server a question from tandemd (GET /api/v1/lookup)

import { api } from './api.js';
import { h, fill, field, showError, clearErrors } from './dom.js';

export function lookupPage(el) {
  const name = h('input#lookup-name', { required: true, placeholder: 'www.example.com', 'data-field': 'name', 'data-filter': true });
  const type = h('input#lookup-type', { value: 'A', list: 'lookup-types', 'data-field': 'type' });
  const server = h('input#lookup-server', { placeholder: 'this server', 'data-field': 'server' });
  const tcp = h('input#lookup-tcp', { type: 'checkbox' });
  const out = h('div#lookup-result');
  const form = h('form.card.lookup', { on: { submit: async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    fill(out, h('p.muted', 'Asking...'));
    try {
      // "address@port" as the console writes servers elsewhere; the API takes the port apart.
      const sv = server.value.trim(), at = sv.lastIndexOf('@');
      const { data } = await api('GET', 'lookup', { query: { name: name.value.trim(), type: type.value.trim(),
        server: at >= 0 ? sv.slice(0, at) : sv, port: at >= 0 ? sv.slice(at + 1) : '', tcp: tcp.checked ? 'true' : '' } });
      fill(out, result(data));
    } catch (e) {
      out.replaceChildren();
      if (e.status !== 401) showError(form, e);
    }
  } } },
    h('h1', 'Look up'),
    h('div.inline', field('Name', name), field('Type', type),
      h('datalist#lookup-types', ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'TXT', 'SRV', 'CAA', 'DS', 'DNSKEY', 'PTR'].map((t) => h('option', { value: t }))),
      field('Server', server, 'address[@port]; empty: this tandemd'), h('label.check', tcp, ' TCP')),
    h('button.primary', { type: 'submit' }, 'Look up'));
  fill(el, form, out);
  name.focus();
}

// The answer: rcode and flags, then each section as a table when the server gives records, else as text.
function result(d) {
  if (typeof d === 'string') return h('pre.mono', d);
  const sections = ['answer', 'authority', 'additional'].filter((s) => Array.isArray(d[s]));
  return h('div.card',
    h('p', h('strong', d.rcode || ''), ' ', (d.flags || []).join?.(' ') || d.flags || '', ' ',
      d.server ? `from ${d.server}` : '', d.time_ms !== undefined ? ` in ${d.time_ms} ms` : ''),
    sections.length ? sections.map((s) => [h('h3', s), h('table.grid', h('tbody', d[s].length ? d[s].map((r) =>
      typeof r === 'string' ? h('tr', h('td.mono', r)) :
        h('tr', h('td', r.name), h('td.num', r.ttl), h('td', r.class || 'IN'), h('td', r.type), h('td.mono', r.data ?? r.rdata))) :
      h('tr', h('td.muted', 'empty'))))])
      : h('pre.mono', JSON.stringify(d, null, 2)));
}
