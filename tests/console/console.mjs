// tests/console/console.mjs -- browser stories of the web console: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core. Run by tests/integration/test_console.py, which starts the
// servers and passes what they are in CONSOLE_CONFIG (JSON):
//   {"scenario": "replication" | "story" | "tools", "out": folder for screenshots,
//    "primary": {"url", "key", "dns": "addr@port"}, "secondary": {"url", "key", "address", "dns"},
//    "zone": "example.com.", "zonefile": path, "next_text": text, "next_serial": n}
// Every wait is bounded (WAIT ms, LIVE ms for what the servers do in the background). On failure the page
// is saved as a screenshot, its path printed, and the exit code is 1; "console: PASS" and 0 otherwise.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const cfg = JSON.parse(process.env.CONSOLE_CONFIG || '{}');
const WAIT = 10000;      // one step of the page
const LIVE = 30000;      // replication through NOTIFY and IXFR, seen through the live view
let step = 'start';
const out = cfg.out || path.join(path.dirname(new URL(import.meta.url).pathname), 'out');
fs.mkdirSync(out, { recursive: true });
const problems = [];     // page errors and CSP violations: a console that breaks its own policy fails

// Names the step (for the failure message); with CONSOLE_SHOTS=1 the page is kept as it was before it.
let shots = 0, current = null;
async function say(s) {
  if (process.env.CONSOLE_SHOTS && current)
    await current.screenshot({ path: path.join(out, `${cfg.scenario}-${++shots}.png`), fullPage: true, timeout: WAIT });
  step = s;
  console.log('step: ' + s);
}

// Polls fn (async: true when done, else false or a string saying why not) every 200 ms for at most ms; throws
// with what it last saw.
async function until(what, fn, ms = WAIT) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    // Done only on true: a string is why not yet (it used to count as done, so such a wait could not fail).
    try { last = await fn(); if (last === true) return true; } catch (e) { last = e.message; }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function text(loc) { return ((await loc.textContent({ timeout: WAIT })) || '').trim(); }

async function login(page, url, key) {
  await page.goto(url, { timeout: WAIT });
  await page.locator('#key').waitFor({ timeout: WAIT });
  await page.fill('#key', key);
  await page.press('#key', 'Enter');
  await page.locator('table.zones').waitFor({ timeout: WAIT });
}

async function openZone(page, url, zone, tab) {
  await page.goto(`${url}#/zone/${encodeURIComponent(zone)}/${tab}`, { timeout: WAIT });
  await page.locator(`nav.tabs a.current[data-tab=${tab}]`).waitFor({ timeout: WAIT });
}

// The primary's replication tab shows the secondary at serial, lag 0, read again live (no reload here).
async function seesSecondaryAt(page, address, serial) {
  const row = page.locator(`#secondaries tr[data-address="${address}"]`);
  await until(`secondary ${address} at serial ${serial} on the replication page`, async () => {
    if (!(await row.count())) return false;
    const s = await text(row.locator('td.serial')), lag = await text(row.locator('td.lag'));
    return s === String(serial) && lag === '0' ? true : `serial ${s}, lag ${lag}`;
  }, LIVE);
}

// The zone as the API says it is now (with the key the page holds).
async function zoneInfo(page, zone) {
  return page.evaluate(async (z) => (await fetch(`/api/v1/zones/${encodeURIComponent(z)}`,
    { headers: { 'X-API-Key': sessionStorage.getItem('tandem.api-key') } })).json(), zone);
}

// The lookup page asks server's DNS address for name's A records; its result must match want.
async function lookUp(page, server, name, want) {
  await page.goto(`${server.url}#/lookup`, { timeout: WAIT });
  await page.fill('#lookup-name', name);
  await page.fill('#lookup-type', 'A');
  await page.fill('#lookup-server', server.dns);
  await page.click('form.lookup button[type=submit]');
  await until(`the lookup result ${want}`, async () => want.test(await text(page.locator('#lookup-result'))));
}

const scenarios = {
  // Needs only what main serves: login, the zone list and its badges, the live replication view, the
  // zone file reloaded from the console's button, the key refused (401) sending back to login.
  async replication(page) {
    const p = cfg.primary;
    await say('a wrong key is refused beside the field');
    await page.goto(p.url, { timeout: WAIT });
    await page.fill('#key', 'not-the-key');
    await page.click('form.login button[type=submit]');
    await until('the login error', async () => /not accepted/.test(await text(page.locator('.field-error'))));

    await say('log in: the zone list with role, serial, source and badge');
    await login(page, p.url, p.key);
    const row = page.locator(`tr[data-zone="${cfg.zone}"]`);
    await until('the zone row', async () => (await text(row)).includes('primary') && (await text(row)).includes('config'));
    await until('the in-sync badge', async () => (await text(row.locator('.badge-cell'))) === 'in sync');
    const stored = await page.evaluate(() => [sessionStorage.getItem('tandem.api-key'), localStorage.length]);
    if (stored[0] !== p.key || stored[1] !== 0) throw new Error(`key kept in ${JSON.stringify(stored)}`);

    await say('the replication tab shows the secondary in sync');
    await row.locator('a').click();
    await page.locator('.zone-head h1').waitFor({ timeout: WAIT });
    await page.click('nav.tabs a[data-tab=replication]');
    await seesSecondaryAt(page, cfg.secondary.address, cfg.serial);

    await say('edit the zone file, press Reload file, watch the secondary follow live');
    const tmp = cfg.zonefile + '.tmp';
    fs.writeFileSync(tmp, cfg.next_text);
    fs.renameSync(tmp, cfg.zonefile);
    await page.click('button:has-text("Reload file")');
    await until('our serial on the page', async () => (await text(page.locator('#our-serial'))) === String(cfg.next_serial), LIVE);
    await seesSecondaryAt(page, cfg.secondary.address, cfg.next_serial);
    await until('the serial in the header', async () => (await text(page.locator('#zone-serial'))) === String(cfg.next_serial));
    await until('what the reload did', async () =>
      (await text(page.locator('#last-reload'))).includes(`serial ${cfg.serial} -> ${cfg.next_serial}`), LIVE);

    await say('a key the API no longer takes sends back to the login page');
    await page.evaluate(() => sessionStorage.setItem('tandem.api-key', 'revoked'));
    await page.goto(`${p.url}#/zones`, { timeout: WAIT });
    await page.locator('#key').waitFor({ timeout: WAIT });

    await say('log out forgets the key');
    await login(page, p.url, p.key);
    await page.click('#logout');
    await page.locator('#key').waitFor({ timeout: WAIT });
    const left = await page.evaluate(() => sessionStorage.getItem('tandem.api-key'));
    if (left !== null) throw new Error('the key stayed in sessionStorage after logging out');
  },

  // The operator's story through the console (needs the zones and records routes): a quick zone on the
  // primary, told to the secondary; the secondary made from the secondary's console; records added,
  // edited, refused with the error beside the field, deleted; the secondary's serial followed live.
  async story(page, browser) {
    const p = cfg.primary, s = cfg.secondary, zone = cfg.zone;
    await say('log in on the primary, quick zone');
    await login(page, p.url, p.key);
    await page.click('a:has-text("New zone")');
    await page.fill('#quick-name', zone);
    await page.fill('#quick-ns', `ns1.${zone}, ns2.${zone}`);
    await page.fill('#quick-address', '192.0.2.10');
    await page.click('#quick-zone button[type=submit]');
    await page.locator('.zone-head h1').waitFor({ timeout: WAIT });
    await until('the quick zone\'s records', async () => (await page.locator('table.records tr[data-type=SOA]').count()) === 1);

    await say('properties: notify the secondary, let it transfer');
    await page.click('nav.tabs a[data-tab=properties]');
    await page.fill('#prop-notify', s.dns);
    await page.fill('#prop-acl', `transfer ${s.address}`);
    await page.fill('#prop-notify-delay', '0');
    await page.click('#properties button[type=submit]');
    await until('properties saved', async () => /saved/.test(await text(page.locator('#flash'))));
    await until('the zone\'s own notify delay, 0', async () => {
      const d = (await zoneInfo(page, zone)).settings.notify_delay;
      return d === 0 ? true : `notify_delay ${JSON.stringify(d)}`;
    });

    await say('on the secondary\'s console: a new secondary zone from the primary');
    const spage = await browser.newPage();
    spage.setDefaultTimeout(WAIT);
    await login(spage, s.url, s.key);
    await spage.goto(`${s.url}#/new`, { timeout: WAIT });
    await spage.fill('#new-name', zone);
    await spage.selectOption('#new-type', 'secondary');
    await spage.fill('#new-primaries', p.dns);
    await spage.click('#new-zone button[type=submit]');
    await spage.locator('.zone-head h1').waitFor({ timeout: WAIT });
    await until('the secondary holding the zone', async () => {
      await spage.reload({ timeout: WAIT });
      await spage.locator('#zone-serial').waitFor({ timeout: WAIT });
      return /^\d+$/.test(await text(spage.locator('#zone-serial')));
    }, LIVE);
    await spage.close();

    await say('records window: add a record');
    await openZone(page, p.url, zone, 'records');
    await page.click('#add-record');
    await page.fill('#add-name', 'shop');
    await page.fill('#add-type', 'A');
    await page.fill('#add-rdata', '192.0.2.44');
    await page.click('#add-save');
    const shop = page.locator(`table.records tr[data-name="shop.${zone}"]`);
    await until('the added record', async () => (await text(shop.locator('td.rdata'))) === '192.0.2.44');

    await say('a bad address is refused beside the data field');
    await page.fill('#add-name', 'bad');
    await page.fill('#add-type', 'A');
    await page.fill('#add-rdata', 'not-an-address');
    await page.click('#add-save');
    await until('the field error beside the data', async () =>
      (await page.locator('#add-rdata.invalid + .field-error').count()) === 1);
    if (await page.locator(`table.records tr[data-name="bad.${zone}"]`).count())
      throw new Error('the refused record was added');

    await say('edit the record');
    await shop.locator('button[data-action=edit]').click();
    await page.fill('tr.editing input.rdata', '192.0.2.45');
    await page.press('tr.editing input.rdata', 'Enter');
    await until('the edited record', async () => (await text(shop.locator('td.rdata'))) === '192.0.2.45');

    await say('delete the record');
    await shop.locator('button[data-action=delete]').click();
    await shop.locator('button[data-action=delete]:has-text("Confirm")').click();
    await until('the record gone', async () => (await shop.count()) === 0);
    const serial = Number(await text(page.locator('#zone-serial')));

    await say('history: the changes with their diffs, newest first');
    await openZone(page, p.url, zone, 'history');
    const newest = page.locator('details.change').first();
    await until('the deletion in the history', async () =>
      (await text(newest.locator('pre.diff'))).includes(`- shop.${zone}`));

    await say('the replication page: the secondary follows');
    await openZone(page, p.url, zone, 'replication');
    const now = Number(await text(page.locator('#our-serial')));
    if (!(now >= serial)) throw new Error(`serial ${now} after the changes, was ${serial}`);
    await seesSecondaryAt(page, s.address, now);
  },

  // The zone's tools (on a primary zone of the configuration): the zone text edited and saved (and a
  // broken line refused, its line named beside the text, nothing saved), the change reverted from the
  // history, and the lookup page asking the primary's DNS whether the record is there.
  async tools(page) {
    const p = cfg.primary, zone = cfg.zone, name = `tooltest.${zone}`;
    await say('log in, the zone text tab shows the zone');
    await login(page, p.url, p.key);
    await openZone(page, p.url, zone, 'text');
    const area = page.locator('#zone-text');
    await until('the zone text', async () => /\sSOA\s/.test(await area.inputValue()));
    const before = Number(await text(page.locator('#zone-serial')));

    await say('a broken line is refused with its line number, nothing saved');
    const original = await area.inputValue();
    const lines = original.replace(/\n+$/, '').split('\n');
    await area.fill(`${lines.join('\n')}\nbroken.${zone} 300 IN A not-an-address\n`);
    await page.click('#text-form button[type=submit]');
    await until('the error beside the text', async () =>
      new RegExp(`^(line )?${lines.length + 1}:`).test(await text(page.locator('#zone-text + .field-error'))));
    const served = await zoneInfo(page, zone);
    if (served.serial !== before) throw new Error(`the broken text changed the serial to ${served.serial}`);

    await say('the zone text saved with a record added: a new serial');
    await area.fill(`${lines.join('\n')}\n${name} 300 IN A 192.0.2.77\n`);
    await page.click('#text-form button[type=submit]');
    await until('saved', async () => /Zone text saved/.test(await text(page.locator('#flash'))));
    await until('a new serial served', async () => (await zoneInfo(page, zone)).serial > before);

    await say('the lookup page finds the record on the primary');
    await lookUp(page, p, name, /192\.0\.2\.77/);

    await say('the history: the change, reverted');
    await openZone(page, p.url, zone, 'history');
    const newest = page.locator('details.change').first();
    await until('the added record in the newest change', async () =>
      (await text(newest.locator('pre.diff'))).includes(`+ ${name}`));
    const id = await newest.getAttribute('data-id');
    await newest.locator('button:has-text("Revert")').click();
    await newest.locator('button:has-text("Confirm revert")').click();
    await until('reverted', async () => (await text(page.locator('#flash'))).includes(`Change ${id} reverted`));
    await until('the revert listed as the newest change', async () =>
      (await text(page.locator('details.change').first().locator('pre.diff'))).includes(`- ${name}`));

    await say('the lookup page: the record is gone');
    await lookUp(page, p, name, /NXDOMAIN/);
  },
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], timeout: 60000 });
const page = await browser.newPage();
current = page;
page.setDefaultTimeout(WAIT);
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error' && !/401|Unauthorized|status of 4\d\d/.test(m.text())) problems.push('console: ' + m.text()); });
let code = 0;
try {
  const run = scenarios[cfg.scenario];
  if (!run) throw new Error('no scenario ' + cfg.scenario);
  await run(page, browser);
  if (problems.length) throw new Error(problems.join('\n'));
  console.log('console: PASS');
} catch (e) {
  code = 1;
  const shot = path.join(out, `${cfg.scenario}-failed.png`);
  try { await page.screenshot({ path: shot, fullPage: true, timeout: WAIT }); } catch { /* the page is gone */ }
  console.log(`console: FAIL in "${step}": ${e.message}\n${problems.join('\n')}\nscreenshot: ${shot}\nurl: ${page.url()}`);
}
await browser.close();
process.exit(code);
