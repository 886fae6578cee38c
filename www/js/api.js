// www/js/api.js -- every call to tandemd's API: the key from sessionStorage in X-API-Key, errors as ApiError

const KEY = 'tandem.api-key';

export class ApiError extends Error {
  constructor(status, message, field, body) {
    super(message);
    this.status = status;
    this.field = field || null;
    this.body = body;
  }
}

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

// Called when the API refuses the key (401): app.js sends the person back to the login page.
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

// api('GET', 'zones/example.com./records', {query: {limit: 100}, body, text, ifMatch, key})
//   -> {data, etag, status}; data is the parsed JSON, or the text of a text answer.
export async function api(method, path, opts = {}) {
  const headers = { 'X-API-Key': opts.key ?? session.key() ?? '' };
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.text !== undefined) {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
    body = opts.text;
  }
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
  let url = '/api/v1/' + path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query || {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  if ([...q].length) url += '?' + q;
  let r;
  try {
    r = await fetch(url, { method, headers, body, cache: 'no-store', signal: opts.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'tandemd did not answer: ' + e.message);
  }
  const type = r.headers.get('Content-Type') || '';
  let data = null;
  if (method !== 'HEAD') {
    const raw = await r.text();
    if (type.includes('json')) {
      try { data = raw ? JSON.parse(raw) : null; } catch { data = raw; }
    } else {
      data = raw;
    }
  }
  if (r.status === 401 && !opts.key) {
    onUnauthorized();
    throw new ApiError(401, 'the API refused the key');
  }
  if (!r.ok) {
    const msg = (data && typeof data === 'object' && data.error) || (typeof data === 'string' && data) ||
                `${r.status} ${r.statusText}`;
    throw new ApiError(r.status, msg, data && data.field, data);
  }
  return { data, etag: r.headers.get('ETag'), status: r.status };
}

// The path of a zone's resource: zone('example.com.', 'records').
export function zpath(zone, ...rest) {
  return ['zones', encodeURIComponent(zone), ...rest.map((s) => encodeURIComponent(s))].join('/');
}
