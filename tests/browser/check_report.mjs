// Checks a report.html written by `bitline report` in headless Chromium.
//
//   node tests/browser/check_report.mjs REPORT_HTML SCREENSHOT_PNG [EXPECTED_MARKS_JSON]
//
// Opens the page from file://, waits (60 s at most) for window.bitlineReportReady, then checks that every
// .figure holds a non-empty <svg> whose primary mark (the SVG groups with the class in
// data-primary-mark-class) draws data-expected-marks items, more than zero. EXPECTED_MARKS_JSON, an object
// {figure id: marks} that the caller counted from the sweep's own files (not from the report), names
// figures that must be on the page and draw exactly that many marks, whatever the page's data says.
// Takes a full-page screenshot.
// Prints a JSON summary on stdout; exits 0 when every figure passed and the page logged no console error,
// threw nothing, failed no request and asked for nothing outside file:/data:/blob:; 1 otherwise; 2 on a
// usage error. Puppeteer-core comes from web/node_modules (`npm ci` in web/); the browser is
// /usr/bin/chromium unless BITLINE_CHROMIUM names another.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const READY_TIMEOUT_MS = 60_000;

function usage(message) {
  process.stderr.write(`${message}\nusage: node tests/browser/check_report.mjs REPORT_HTML SCREENSHOT_PNG [EXPECTED_MARKS_JSON]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length !== 2 && args.length !== 3) usage('expected two or three arguments');
const [reportPath, screenshotPath, expectedPath] = args.map((a) => path.resolve(a));
if (!fs.existsSync(reportPath) || !fs.statSync(reportPath).isFile()) usage(`no such file: ${reportPath}`);
if (!fs.existsSync(path.dirname(screenshotPath))) usage(`no such directory for the screenshot: ${path.dirname(screenshotPath)}`);
let expectedMarks = {};
if (expectedPath) {
  try {
    expectedMarks = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));
  } catch (err) {
    usage(`${expectedPath}: not a readable JSON file: ${err.message}`);
  }
  const valid = expectedMarks && typeof expectedMarks === 'object' && !Array.isArray(expectedMarks) &&
    Object.values(expectedMarks).every((n) => Number.isInteger(n) && n > 0);
  if (!valid) usage(`${expectedPath}: expected an object of figure ids to positive mark counts`);
}

// puppeteer-core lives in web/node_modules, two levels up from this script.
const requireFromWeb = createRequire(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/package.json'));
let puppeteer;
try {
  puppeteer = requireFromWeb('puppeteer-core');
} catch (err) {
  usage(`puppeteer-core not found (run \`npm ci\` in web/): ${err.message}`);
}
const executablePath = process.env.BITLINE_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) usage(`no browser at ${executablePath}`);

const consoleErrors = [];
const consoleWarnings = []; // reported, not failed on (Vega-Lite's warnings about a spec land here)
const pageErrors = [];
const failedRequests = [];
const externalRequests = [];
let figures = [];
let fatal = null;

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
    else if (msg.type() === 'warn') consoleWarnings.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(String(err && err.message ? err.message : err)));
  page.on('requestfailed', (req) => failedRequests.push(`${req.url()}: ${req.failure()?.errorText ?? 'failed'}`));
  page.on('request', (req) => {
    if (!/^(file|data|blob|about):/.test(req.url())) externalRequests.push(req.url());
  });

  await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load', timeout: READY_TIMEOUT_MS });
  // report.js sets bitlineReportErrors as it starts, while the page parses: if it is missing at 'load', the
  // script never ran (e.g. inlined text ended a <script> element early), and waiting would only time out.
  if (!(await page.evaluate(() => Array.isArray(window.bitlineReportErrors)))) {
    throw new Error('the report script did not run (window.bitlineReportErrors is not set)');
  }
  await page.waitForFunction(() => window.bitlineReportReady === true, { timeout: READY_TIMEOUT_MS, polling: 100 });

  figures = await page.evaluate(() => [...document.querySelectorAll('.figure')].map((fig) => {
    const expected = Number(fig.getAttribute('data-expected-marks'));
    const cls = fig.getAttribute('data-primary-mark-class') || '';
    const svg = fig.querySelector('svg');
    const svgOk = !!svg && svg.childElementCount > 0 && svg.getBoundingClientRect().width > 0;
    // Each item of a Vega mark is one child element of the mark's group; a grouped line mark has one
    // such group per line.
    let rendered = 0;
    if (svg && cls) for (const g of svg.querySelectorAll(`g.${CSS.escape(cls)}`)) rendered += g.childElementCount;
    return { id: fig.id, mark_class: cls, expected, rendered, svg: svgOk };
  }));
  // report.js always writes the results section (a note when there are no rows): a sanity check that it drew.
  if (!(await page.evaluate(() => !!document.getElementById('results')))) throw new Error('the page has no #results section');
  const embedErrors = await page.evaluate(() => window.bitlineReportErrors || []);
  // Embed errors also reach the console; keep any that did not.
  for (const e of embedErrors) if (!consoleErrors.some((c) => c.includes(e))) consoleErrors.push(`bitlineReportErrors: ${e}`);

  await page.screenshot({ path: screenshotPath, fullPage: true });
} catch (err) {
  fatal = String(err && err.message ? err.message : err);
} finally {
  await browser.close();
}

const ids = figures.map((f) => f.id);
for (const f of figures) {
  f.ok = f.svg && Number.isInteger(f.expected) && f.expected > 0 && f.rendered === f.expected && !!f.id && ids.indexOf(f.id) === ids.lastIndexOf(f.id);
  if (f.id in expectedMarks) {
    f.expected_by_caller = expectedMarks[f.id];
    f.ok = f.ok && f.rendered === f.expected_by_caller;
  }
}
const missingFigures = Object.keys(expectedMarks).filter((id) => !ids.includes(id));
const ok = !fatal && figures.every((f) => f.ok) && !missingFigures.length &&
  !consoleErrors.length && !pageErrors.length && !failedRequests.length && !externalRequests.length;
const summary = {
  report: reportPath,
  screenshot: screenshotPath,
  figures,
  missing_figures: missingFigures,
  console_errors: consoleErrors,
  console_warnings: consoleWarnings,
  page_errors: pageErrors,
  failed_requests: failedRequests,
  external_requests: externalRequests,
  ...(fatal ? { fatal } : {}),
  ok,
};
process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
process.exit(ok ? 0 : 1);
