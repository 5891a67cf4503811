/** The playground page: plain HTML and a little script, served by the service itself. */
export const PLAYGROUND_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support agent playground</title>
<link rel="icon" href="data:,">
<style>
  :root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --accent:#1f73b7; --bg:#f8fafc; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); }
  header { padding:16px 24px; background:#fff; border-bottom:1px solid var(--line); }
  header h1 { margin:0; font-size:18px; }
  header p { margin:4px 0 0; color:var(--muted); font-size:13px; }
  main { display:grid; grid-template-columns: minmax(320px, 1fr) minmax(360px, 1.3fr); gap:24px; padding:24px; max-width:1280px; margin:0 auto; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; }
  label { display:block; font-weight:600; margin:12px 0 4px; font-size:13px; }
  input, textarea, select { width:100%; padding:8px 10px; border:1px solid var(--line); border-radius:6px; font:inherit; }
  textarea { min-height:140px; resize:vertical; }
  .row { display:grid; grid-template-columns: 1fr 1fr; gap:12px; }
  button { margin-top:16px; background:var(--accent); color:#fff; border:0; border-radius:6px; padding:10px 18px; font:inherit; font-weight:600; cursor:pointer; }
  button:disabled { opacity:.6; cursor:wait; }
  .chips { display:flex; flex-wrap:wrap; gap:8px; margin-bottom:12px; }
  .chip { border:1px solid var(--line); border-radius:999px; padding:2px 10px; font-size:13px; background:#fff; }
  .chip b { font-weight:600; }
  .tier0 { background:#e6f4ea; } .tier1 { background:#eef4fb; } .tier2 { background:#fff4e5; } .tier3 { background:#fdecea; }
  h2 { font-size:15px; margin:16px 0 6px; }
  pre.draft { white-space:pre-wrap; background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:12px; font:14px/1.5 system-ui, sans-serif; }
  ul { margin:4px 0; padding-left:20px; }
  .stale { color:#b54708; font-size:12px; margin-left:6px; }
  .muted { color:var(--muted); font-size:13px; }
  .error { color:#b42318; }
  table { border-collapse:collapse; font-size:13px; }
  td, th { border-bottom:1px solid var(--line); padding:3px 8px; text-align:left; }
</style>
</head>
<body>
<header>
  <h1>Support agent playground</h1>
  <p>Paste a ticket: see the intent, confidence, tier, draft and citations the agent would produce. Nothing is sent anywhere.</p>
</header>
<main>
<section>
  <form id="ticket-form">
    <label for="subject">Subject</label>
    <input id="subject" name="subject" placeholder="Can't log in">
    <label for="body">Message</label>
    <textarea id="body" name="body" required placeholder="Hi, I forgot my password and the reset email never arrived..."></textarea>
    <div class="row">
      <div><label for="name">Customer name</label><input id="name" name="name" placeholder="optional"></div>
      <div><label for="plan">Plan</label><input id="plan" name="plan" placeholder="Team, Business, Free"></div>
    </div>
    <div class="row">
      <div><label for="prior">Earlier tickets on this issue</label><input id="prior" name="prior" type="number" min="0" value="0"></div>
      <div><label for="tone">Tone</label><select id="tone" name="tone"><option value="">auto</option><option>formal</option><option>casual</option></select></div>
    </div>
    <button id="submit" type="submit">Triage</button>
    <p id="error" class="error" role="alert"></p>
  </form>
</section>
<section id="result" aria-live="polite">
  <p class="muted">The result appears here.</p>
</section>
</main>
<script>
const form = document.getElementById('ticket-form');
const result = document.getElementById('result');
const errorBox = document.getElementById('error');
const esc = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.textContent = '';
  const button = document.getElementById('submit');
  button.disabled = true;
  const value = (id) => document.getElementById(id).value.trim();
  const customer = {};
  if (value('name')) customer.name = value('name');
  if (value('plan')) customer.plan = value('plan');
  if (value('tone')) customer.tone = value('tone');
  const prior = Number(value('prior') || 0);
  if (prior > 0) customer.priorTicketsSameIssue = prior;
  const payload = { body: value('body') };
  if (value('subject')) payload.subject = value('subject');
  if (Object.keys(customer).length) payload.customer = customer;
  try {
    const response = await fetch('/api/triage', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ? data.error.message + (data.error.details ? ': ' + JSON.stringify(data.error.details) : '') : 'Request failed');
    render(data);
  } catch (error) {
    errorBox.textContent = error.message;
  } finally {
    button.disabled = false;
  }
});
function render(record) {
  const c = record.classification;
  const chips = [
    ['Intent', c.outOfScope ? c.intent + ' (out of scope)' : c.intent, 'intent'],
    ['Confidence', c.confidence.toFixed(2), 'confidence'],
    ['Tier', String(record.tier), 'tier'],
    ['Action', record.action.replace('_', ' '), 'action'],
    ['Priority', record.priority, 'priority'],
    ['Language', record.language, 'language'],
    ['Urgency', c.urgency, 'urgency'],
    ['Sentiment', c.sentiment.score.toFixed(2) + (record.frustrated ? ' · frustrated' : ''), 'sentiment'],
  ].map(([k, v, id]) => '<span class="chip' + (id === 'tier' ? ' tier' + record.tier : '') + '" data-field="' + id + '">' + esc(k) + ': <b>' + esc(v) + '</b></span>').join('');
  let html = '<div class="chips">' + chips + '</div>';
  html += '<h2>Why this tier</h2><ul>' + record.tierReasons.map((r) => '<li>' + esc(r) + '</li>').join('') + '</ul>';
  if (record.injection.suspected) html += '<p class="error">Instructions aimed at the agent were found in the ticket (' + esc(record.injection.markers.join(', ')) + '); they were treated as data.</p>';
  if (record.draft) {
    html += '<h2>Draft (' + esc(record.draft.provider) + ')</h2><pre class="draft" data-field="draft">' + esc(record.draft.text) + '</pre>';
    html += '<p class="muted">Grounding: ' + (record.draft.grounding.passed ? 'all checks passed' : esc(record.draft.grounding.checks.filter((x) => !x.passed).map((x) => x.name + ' — ' + x.detail).join('; '))) + '</p>';
  }
  html += '<h2>Citations</h2>';
  html += record.citations.length ? '<ul data-field="citations">' + record.citations.map((x) => '<li><a href="' + esc(x.url || '#') + '" target="_blank" rel="noopener">' + esc(x.title) + '</a> <span class="muted">' + esc(x.articleId) + '</span>' + (x.stale ? '<span class="stale">not reviewed in 60+ days</span>' : '') + '</li>').join('') + '</ul>' : '<p class="muted" data-field="citations">None.</p>';
  if (record.escalation) {
    const e = record.escalation;
    html += '<h2>Escalation to ' + esc(e.team) + '</h2><p>' + esc(e.summary) + '</p>';
    html += '<p><b>Tried:</b></p><ul>' + e.whatWasTried.map((x) => '<li>' + esc(x) + '</li>').join('') + '</ul>';
    if (e.whyItFailed.length) html += '<p><b>Why it needs a human:</b></p><ul>' + e.whyItFailed.map((x) => '<li>' + esc(x) + '</li>').join('') + '</ul>';
    html += '<p><b>Suggested action:</b> ' + esc(e.suggestedAction) + '</p>';
  }
  if (record.budget) {
    html += '<h2>Context budget (' + esc(record.budget.method) + ', ' + record.budget.totalTokens + ' tokens)</h2><table><tr><th>Source</th><th>Used</th><th>Budget</th><th>Cut</th></tr>' + record.budget.lines.map((l) => '<tr><td>' + esc(l.source) + '</td><td>' + l.usedTokens + '</td><td>' + l.budgetTokens + '</td><td>' + esc(l.cut.join('; ')) + '</td></tr>').join('') + '</table>';
  }
  html += '<p class="muted">Timings (ms): ' + esc(Object.entries(record.timings).map(([k, v]) => k + ' ' + v).join(', ')) + ' · cost $' + (record.cost.costUsd ?? 0).toFixed(5) + '</p>';
  result.innerHTML = html;
}
</script>
</body>
</html>
`;
