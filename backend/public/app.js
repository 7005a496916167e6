'use strict';
// Plain browser JavaScript: every server string is written with textContent, never as HTML.
(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    token: localStorage.getItem('batchToken') || '',
    socket: null,
    batches: new Map(),
    seq: new Map(),
    /** Per batch: { at, done } samples of the live events, for the throughput chart. */
    samples: new Map(),
    detail: null,
  };

  function claims(token) {
    try {
      return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch {
      return null;
    }
  }

  /** Every failure becomes a sentence for people: never a raw exception. */
  async function api(method, url, body, extraHeaders) {
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: Object.assign(
          { Authorization: 'Bearer ' + state.token },
          body ? { 'Content-Type': 'application/json' } : {},
          extraHeaders || {},
        ),
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new Error('The server did not answer. Check your connection and try again.');
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const message = data && typeof data.message === 'string' ? data.message : 'The request failed';
      throw new Error(message + ' (' + ((data && data.code) || 'HTTP ' + res.status) + ')');
    }
    return data;
  }

  /** What each action needs the batch's status to be (the server's batch-lifecycle rules). */
  /** Plain words for statuses (the class keeps the code). */
  const STATUS_WORDS = {
    pending: 'pending',
    processing: 'processing',
    paused: 'paused',
    completed: 'completed',
    completed_with_errors: 'completed with errors',
    failed: 'failed',
    cancelled: 'cancelled',
  };

  const ALLOWED = {
    pause: (b) => b.status === 'pending' || b.status === 'processing',
    resume: (b) => b.status === 'paused',
    cancel: (b) => b.status === 'pending' || b.status === 'processing' || b.status === 'paused',
    retry: (b) => (b.status === 'completed_with_errors' || b.status === 'failed') && b.failedCount > 0,
    failed: (b) => b.failedCount > 0,
    download: (b) => b.failedCount > 0,
    details: () => true,
  };

  /** Item errors quote the schema; say the DOI rule in words. */
  function readableError(text) {
    return String(text || '').replace(
      /must match \^10\\\.\\d\{4,9\}\\?\/\\S\+\$/g,
      'must be a DOI such as 10.1000/xyz',
    );
  }

  const FULL_TEXT = {
    none: 'not fetched',
    available: 'available',
    not_available: 'not available',
    failed: 'failed',
  };

  /** The caller's papers with the state of their full text (refreshed when a batch ends). */
  async function loadPapers() {
    try {
      const page = await api('GET', '/papers?limit=20');
      $('papers-table')
        .querySelector('tbody')
        .replaceChildren(
          ...page.data.map((paper) => {
            const row = document.createElement('tr');
            for (const text of [
              paper.title,
              paper.doi || '',
              FULL_TEXT[paper.fullTextStatus] || paper.fullTextStatus,
              paper.fullTextWords == null ? '' : String(paper.fullTextWords),
            ]) {
              const cell = document.createElement('td');
              cell.textContent = text;
              row.append(cell);
            }
            return row;
          }),
        );
    } catch (e) {
      $('papers-title').textContent = 'Your papers (' + e.message + ')';
    }
  }

  function currentUser() {
    const c = claims(state.token);
    return c ? { id: c.sub, admin: Array.isArray(c.roles) && c.roles.includes('admin') } : null;
  }

  function render(batch) {
    const previous = state.batches.get(batch.id);
    state.batches.set(batch.id, Object.assign({}, previous, batch));
    let li = document.querySelector('li[data-id="' + CSS.escape(batch.id) + '"]');
    if (!li) {
      li = $('batch-template').content.firstElementChild.cloneNode(true);
      li.dataset.id = batch.id;
      li.querySelectorAll('button[data-action]').forEach((b) => {
        b.setAttribute('aria-label', b.textContent + ' of batch ' + batch.id);
        b.addEventListener('click', () => act(batch.id, b.dataset.action, li));
      });
      $('batches').prepend(li);
    }
    const b = state.batches.get(batch.id);
    li.querySelector('.op').textContent = b.operation || '';
    const status = li.querySelector('.status');
    status.textContent = STATUS_WORDS[b.status] || b.status;
    status.className = 'status ' + b.status;
    li.querySelector('.id').textContent = b.id;
    const me = currentUser();
    li.querySelector('.owner').textContent = me && b.userId && b.userId !== me.id ? 'owner: ' + b.userId : '';
    li.querySelectorAll('button[data-action]').forEach((button) => {
      button.disabled = !ALLOWED[button.dataset.action](b);
    });
    const bar = li.querySelector('.bar');
    bar.setAttribute('aria-valuenow', String(b.percentage));
    bar.setAttribute('aria-label', 'Progress of batch ' + b.id);
    // Each outcome its own share of the bar: a cancelled or failed batch never reads as a green 100 %.
    const share = (n) => (b.itemCount > 0 ? (100 * (n || 0)) / b.itemCount : 0) + '%';
    li.querySelector('.fill-ok').style.width = share(b.succeededCount);
    li.querySelector('.fill-failed').style.width = share(b.failedCount);
    li.querySelector('.fill-cancelled').style.width = share(b.cancelledCount);
    const rate = b.details && b.details.itemsPerSecond ? ' · ' + b.details.itemsPerSecond + ' items/s' : '';
    const eta =
      b.details && b.details.etaSeconds != null && !b.finishedAt
        ? ' · ETA ' + b.details.etaSeconds + ' s'
        : '';
    li.querySelector('.counts').textContent =
      b.processedCount +
      ' / ' +
      b.itemCount +
      ' processed · ' +
      b.succeededCount +
      ' ok · ' +
      b.failedCount +
      ' failed' +
      (b.cancelledCount ? ' · ' + b.cancelledCount + ' cancelled' : '') +
      ' · ' +
      b.percentage +
      '%' +
      rate +
      eta;
  }

  async function download(id) {
    const res = await fetch('/batches/' + encodeURIComponent(id) + '/items/export?format=csv&status=failed', {
      headers: { Authorization: 'Bearer ' + state.token },
    });
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      throw new Error(
        ((data && data.message) || 'The download failed') + ' (' + ((data && data.code) || res.status) + ')',
      );
    }
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = 'batch-' + id + '-failed-items.csv';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Applies the server's snapshot when it is not older than what the page shows (the `seq` of its events). */
  function applySnapshot(batch, seq) {
    const last = state.seq.has(batch.id) ? state.seq.get(batch.id) : -1;
    if (seq < last) return;
    state.seq.set(batch.id, seq);
    render(batch);
  }

  /** Reads the batch again over the socket: the ack carries the snapshot and its `seq`, so a late answer never wins over a newer event. */
  function resync(id) {
    if (state.socket && state.socket.connected)
      state.socket.emit(
        'subscribe',
        { batchId: id },
        (ack) => ack && ack.ok && applySnapshot(ack.batch, ack.seq),
      );
  }

  async function act(id, action, li) {
    const problem = li.querySelector('.batch-error');
    problem.textContent = '';
    try {
      if (action === 'download') return void (await download(id));
      if (action === 'details') return void (await openDetail(id));
      if (
        action === 'cancel' &&
        !window.confirm('Cancel batch ' + id + '? Items not processed yet will not run.')
      )
        return;
      if (action === 'failed') {
        const page = await api(
          'GET',
          '/batches/' + encodeURIComponent(id) + '/items?status=failed&limit=100',
        );
        const list = li.querySelector('.failed');
        list.replaceChildren(
          ...page.data.map((item) => {
            const entry = document.createElement('li');
            entry.textContent = 'Item ' + item.seq + ': ' + readableError(item.error);
            return entry;
          }),
        );
        return;
      }
      const reply = await api(
        'POST',
        '/batches/' + encodeURIComponent(id) + '/' + action,
        action === 'retry' ? {} : undefined,
      );
      // The reply carries no seq: live events may already be newer. Without a socket, show it.
      if (state.socket && state.socket.connected) resync(id);
      else render(reply);
    } catch (e) {
      problem.textContent = e.message;
    }
  }

  function onEvent(event) {
    const last = state.seq.has(event.batchId) ? state.seq.get(event.batchId) : -1;
    if (event.seq <= last) return; // drop stale events
    state.seq.set(event.batchId, event.seq);
    const samples = state.samples.get(event.batchId) || [];
    samples.push({ at: Date.parse(event.at), done: event.processedCount + (event.cancelledCount || 0) });
    state.samples.set(event.batchId, samples.slice(-300));
    render(Object.assign({ id: event.batchId }, event));
    if (state.detail && state.detail.id === event.batchId) renderDetailSummary();
    if (event.finishedAt) void loadPapers();
  }

  /** Live stage of an item in the open details table (operations that report progress inside items). */
  function onItemProgress(event) {
    if (!state.detail || state.detail.id !== event.batchId) return;
    const row = document.querySelector('#items-table tr[data-seq="' + event.seq + '"]');
    if (row) row.children[3].textContent = event.stage + ' ' + event.percentage + '%';
  }

  /** Items/s between consecutive samples, drawn as an SVG polyline (no library). */
  function drawChart(id) {
    const svg = $('chart');
    const samples = state.samples.get(id) || [];
    const points = [];
    for (let i = 1; i < samples.length; i++) {
      const seconds = (samples[i].at - samples[i - 1].at) / 1000;
      if (seconds > 0)
        points.push({ at: samples[i].at, rate: (samples[i].done - samples[i - 1].done) / seconds });
    }
    const ns = 'http://www.w3.org/2000/svg';
    svg.replaceChildren();
    if (points.length < 2) {
      const text = document.createElementNS(ns, 'text');
      text.setAttribute('x', '10');
      text.setAttribute('y', '80');
      text.textContent = 'The chart fills in while the batch runs with this page open.';
      svg.append(text);
      return;
    }
    const t0 = points[0].at;
    const span = Math.max(1, points[points.length - 1].at - t0);
    const top = Math.max(...points.map((p) => p.rate), 1);
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute(
      'points',
      points.map((p) => ((p.at - t0) / span) * 580 + 10 + ',' + (150 - (p.rate / top) * 130)).join(' '),
    );
    line.setAttribute('class', 'rate');
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', '10');
    label.setAttribute('y', '14');
    label.textContent = 'peak ' + Math.round(top) + ' items/s';
    svg.append(line, label);
  }

  function renderDetailSummary() {
    const b = state.batches.get(state.detail.id);
    if (!b) return;
    $('detail-summary').textContent =
      b.operation +
      ' · ' +
      b.status +
      ' · ' +
      b.processedCount +
      ' / ' +
      b.itemCount +
      ' processed · ' +
      b.failedCount +
      ' failed';
    drawChart(b.id);
  }

  /** Why an item failed in plain words, and whether a retry may help (errorCategory, retryable). */
  const KINDS = {
    not_found: 'not found',
    paywall: 'paywalled',
    not_pdf: 'not a PDF',
    too_large: 'too large',
    rate_limited: 'rate limited',
    timeout: 'timed out',
    server_error: 'server error',
    network_error: 'network error',
    parse_error: 'unreadable PDF',
    blocked_address: 'blocked address',
    too_many_redirects: 'too many redirects',
    invalid_item: 'invalid item',
    interrupted: 'interrupted',
  };
  function failureKind(item) {
    if (!item.errorCategory) return '';
    const kind = KINDS[item.errorCategory] || item.errorCategory.replace(/_/g, ' ');
    const next = item.nextAttemptAt ? ', next try ' + item.nextAttemptAt.replace('T', ' ').slice(11, 19) : '';
    return kind + (item.retryable ? ' (retryable' + next + ')' : ' (final)');
  }

  async function loadItems() {
    const d = state.detail;
    const status = $('item-status').value;
    const cursor = d.cursors[d.page];
    const page = await api(
      'GET',
      '/batches/' +
        encodeURIComponent(d.id) +
        '/items?limit=20' +
        (status ? '&status=' + status : '') +
        (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''),
    );
    d.cursors[d.page + 1] = page.nextCursor;
    $('items-prev').disabled = d.page === 0;
    $('items-next').disabled = !page.nextCursor;
    $('items-table')
      .querySelector('tbody')
      .replaceChildren(
        ...page.data.map((item) => {
          const row = document.createElement('tr');
          row.dataset.seq = String(item.seq);
          const cells = [
            String(item.seq),
            item.status,
            String(item.attempts),
            item.stage ? item.stage + ' ' + item.progress + '%' : '',
            readableError(item.error || ''),
            failureKind(item),
            JSON.stringify(item.payload).slice(0, 120),
          ];
          for (const text of cells) {
            const cell = document.createElement('td');
            cell.textContent = text;
            row.append(cell);
          }
          return row;
        }),
      );
  }

  async function openDetail(id) {
    state.detail = { id, page: 0, cursors: [null] };
    $('detail').hidden = false;
    $('detail-title').textContent = 'Batch ' + id;
    renderDetailSummary();
    await loadItems();
    $('detail').scrollIntoView();
  }

  function connect() {
    if (state.socket) state.socket.close();
    state.socket = io('/batches', { auth: { token: state.token } });
    state.socket.on('batch-progress', onEvent);
    state.socket.on('batch-complete', onEvent);
    state.socket.on('item-progress', onItemProgress);
    state.socket.on('batch-error', (e) => ($('submit-result').textContent = e.code + ': ' + e.message));
    // The link's state has its own line: the user's name stays, and what is shown says since when it may be stale.
    let staleSince = null;
    const offline = (why) => {
      staleSince = staleSince || new Date();
      $('connection').textContent =
        why +
        ' Live updates paused since ' +
        staleSince.toTimeString().slice(0, 8) +
        '; the batches show that moment.';
      $('connection').className = 'stale';
      document.body.classList.add('stale');
    };
    state.socket.on('connect_error', (err) =>
      err.data && err.data.code === 'UNAUTHENTICATED'
        ? offline('Your sign-in was refused for live updates; sign in again.')
        : offline('The server cannot be reached; reconnecting.'),
    );
    state.socket.on('disconnect', () => offline('The connection to the server was lost; reconnecting.'));
    state.socket.on('connect', () => {
      staleSince = null;
      $('connection').textContent = '';
      $('connection').className = '';
      document.body.classList.remove('stale');
      state.batches.forEach((b) => resync(b.id));
    });
    // Admins hear every transition of a rollout plan (advanced, rolled back, halted, completed).
    state.socket.on('flag-rollout', (e) => {
      $('plan-result').textContent =
        'Rollout ' +
        e.action.replace('_', ' ') +
        ' at step ' +
        (e.step + 1) +
        ' (' +
        e.rollout +
        ' %)' +
        (e.reason ? ': ' + e.reason : '');
      void loadFlag();
    });
  }

  /** A new sign-in starts from an empty page: nothing of the previous user stays on screen. */
  function clearUserView() {
    if (state.socket) state.socket.close();
    state.socket = null;
    state.batches.clear();
    state.seq.clear();
    $('batches').replaceChildren();
    $('papers-table').querySelector('tbody').replaceChildren();
    state.samples.clear();
    state.detail = null;
    $('detail').hidden = true;
    $('submit-result').textContent = '';
    $('feature').textContent = '';
  }

  async function signIn(token) {
    clearUserView();
    state.token = token.trim();
    localStorage.setItem('batchToken', state.token);
    const c = claims(state.token);
    $('who').textContent = c
      ? 'Signed in as ' + c.sub + (Array.isArray(c.roles) && c.roles.includes('admin') ? ' (admin)' : '')
      : 'Invalid token';
    try {
      const features = await api('GET', '/me/features');
      const f = features.BATCH_OPERATIONS || { enabled: false, reason: 'ERROR' };
      $('feature').textContent =
        'BATCH_OPERATIONS is ' + (f.enabled ? 'on' : 'off') + ' for you (' + f.reason + ')';
      const admin = c && Array.isArray(c.roles) && c.roles.includes('admin');
      $('batches-title').textContent = admin ? 'All batches (admin)' : 'Your batches';
      if (f.enabled) {
        const page = await api('GET', '/batches?limit=20');
        page.data.reverse().forEach(render);
      }
      void loadPapers();
    } catch (e) {
      $('feature').textContent = e.message;
    }
    connect();
    const admin = c && Array.isArray(c.roles) && c.roles.includes('admin');
    $('flags').hidden = !admin;
    if (admin) loadFlag();
  }

  async function loadFlag() {
    try {
      const flag = await api('GET', '/feature-flags/BATCH_OPERATIONS');
      $('flag-enabled').checked = flag.enabled;
      $('flag-rollout').value = flag.rollout;
      $('flag-rollout-slider').value = String(Math.round(flag.rollout));
      $('flag-whitelist').value = flag.whitelist.join('\n');
      $('flag-blacklist').value = flag.blacklist.join('\n');
      const audit = await api('GET', '/feature-flags/BATCH_OPERATIONS/audit');
      $('flag-audit').replaceChildren(
        ...audit.data.slice(0, 10).map((entry) => {
          const li = document.createElement('li');
          const after = entry.after
            ? (entry.after.enabled ? 'on' : 'off') + ', ' + entry.after.rollout + ' %'
            : 'deleted';
          li.textContent =
            entry.createdAt.replace('T', ' ').slice(0, 19) +
            ' · ' +
            entry.actor +
            ' · ' +
            entry.action +
            ' → ' +
            after;
          return li;
        }),
      );
    } catch (e) {
      $('flag-result').textContent = e.message;
    }
    await loadPlan();
  }

  const GUARD_LABELS = {
    itemFailureRate: 'Item failure rate',
    serverErrorRate: '5xx answers',
    p95LatencyMs: 'p95 latency',
    databaseBusyRate: 'Database busy',
  };
  const shown = (name, v) =>
    v === null || v === undefined ? '—' : name === 'p95LatencyMs' ? v + ' ms' : (v * 100).toFixed(1) + ' %';

  /** The flag's rollout plan: its steps, each guard's value against its threshold, its history. */
  async function loadPlan() {
    const res = await fetch('/feature-flags/BATCH_OPERATIONS/rollout-plan', {
      headers: { Authorization: 'Bearer ' + state.token },
    });
    const plan = res.ok ? await res.json() : null;
    ['plan-steps', 'plan-history'].forEach((id) => $(id).replaceChildren());
    $('plan-guards').querySelector('tbody').replaceChildren();
    $('plan-pause').disabled = !plan || plan.state !== 'active';
    $('plan-resume').disabled = !plan || (plan.state !== 'paused' && plan.state !== 'halted');
    $('plan-abort').disabled = !plan || !['active', 'paused', 'halted'].includes(plan.state);
    if (!plan) {
      $('plan-summary').textContent = 'No rollout plan.';
      return;
    }
    $('plan-summary').textContent =
      'Plan ' +
      plan.state +
      ', step ' +
      (plan.step + 1) +
      ' of ' +
      plan.steps.length +
      ' (' +
      plan.rollout +
      ' %), since ' +
      plan.stepStartedAt.replace('T', ' ').slice(0, 19) +
      '; earliest next step ' +
      plan.stepMinEndsAt.replace('T', ' ').slice(0, 19);
    $('plan-steps').replaceChildren(
      ...plan.steps.map((step, i) => {
        const li = document.createElement('li');
        li.textContent = step.whitelistOnly ? 'Whitelist only' : step.rollout + ' %';
        li.textContent += ' · at least ' + plan.minStepSeconds[i] + ' s';
        if (i === plan.step) li.setAttribute('aria-current', 'step');
        return li;
      }),
    );
    $('plan-guards')
      .querySelector('tbody')
      .replaceChildren(
        ...Object.entries(plan.guards).map(([name, g]) => {
          const tr = document.createElement('tr');
          const cells = [
            GUARD_LABELS[name] || name,
            shown(name, g.value),
            '≤ ' + shown(name, g.max),
            g.samples + ' (' + g.minSamples + ' needed)',
            shown(name, g.rest.value),
            g.status === 'ok' ? 'holds' : g.status === 'breached' ? 'breached' : 'too few samples',
          ];
          cells.forEach((text) => {
            const td = document.createElement('td');
            td.textContent = text;
            tr.append(td);
          });
          tr.className = 'guard-' + g.status;
          return tr;
        }),
      );
    $('plan-history').replaceChildren(
      ...plan.history
        .slice()
        .reverse()
        .map((h) => {
          const li = document.createElement('li');
          li.textContent =
            h.at.replace('T', ' ').slice(0, 19) +
            ' · ' +
            h.action.replace('_', ' ') +
            ' · step ' +
            (h.step + 1) +
            ' (' +
            (h.enabled ? h.rollout + ' %' : 'off') +
            ') · ' +
            h.actor +
            (h.reason ? ' · ' + h.reason : '');
          return li;
        }),
    );
  }

  async function planAction(action) {
    try {
      await api('POST', '/feature-flags/BATCH_OPERATIONS/rollout-plan/' + action);
      $('plan-result').textContent = 'Plan ' + action + 'd';
    } catch (e) {
      $('plan-result').textContent = e.message;
    }
    await loadFlag();
  }

  function parseItems(text) {
    const trimmed = text.trim();
    if (trimmed.startsWith('[')) return JSON.parse(trimmed);
    const [header, ...lines] = trimmed.split(/\r?\n/).filter(Boolean);
    const columns = header.split(',').map((h) => h.trim());
    return lines.map((line) => {
      const cells = line.split(',');
      const item = {};
      columns.forEach((col, i) => {
        const value = (cells[i] || '').trim();
        if (value === '') return;
        item[col] = col === 'year' ? Number(value) : value;
      });
      return item;
    });
  }

  $('item-status').addEventListener('change', () => {
    state.detail.page = 0;
    state.detail.cursors = [null];
    void loadItems().catch((e) => ($('detail-summary').textContent = e.message));
  });
  $('items-next').addEventListener('click', () => {
    state.detail.page += 1;
    void loadItems().catch((e) => ($('detail-summary').textContent = e.message));
  });
  $('items-prev').addEventListener('click', () => {
    state.detail.page = Math.max(0, state.detail.page - 1);
    void loadItems().catch((e) => ($('detail-summary').textContent = e.message));
  });
  $('detail-close').addEventListener('click', () => {
    state.detail = null;
    $('detail').hidden = true;
  });
  $('flag-rollout-slider').addEventListener(
    'input',
    () => ($('flag-rollout').value = $('flag-rollout-slider').value),
  );
  $('flag-rollout').addEventListener(
    'input',
    () => ($('flag-rollout-slider').value = $('flag-rollout').value),
  );
  $('token').value = state.token;
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn($('token').value);
  });
  let maxItems = 10000;
  fetch('/app-config')
    .then((r) => r.json())
    .then((cfg) => {
      $('dev-login-form').hidden = !cfg.devLogin;
      if (Number.isInteger(cfg.maxBatchItems)) {
        maxItems = cfg.maxBatchItems;
        $('demo-count').max = String(maxItems);
      }
    })
    .catch(() => undefined);
  $('dev-login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = await fetch('/auth/dev-login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: $('dev-user').value, admin: $('dev-admin').checked }),
    });
    const data = await res.json().catch(() => null);
    if (!res.ok || !data) return void ($('who').textContent = (data && data.message) || 'Login failed');
    $('token').value = data.token;
    await signIn(data.token);
  });
  $('generate').addEventListener('click', () => {
    const n = Math.max(1, Math.min(maxItems, Number($('demo-count').value) || 1));
    $('demo-count').value = String(n);
    const op = $('operation').value;
    const stamp = Date.now().toString(36);
    const items = Array.from({ length: n }, (_, i) =>
      op === 'papers.import'
        ? { title: 'Demo paper ' + i, doi: '10.1000/demo-' + stamp + '-' + i, year: 2000 + (i % 25) }
        : { n: i },
    );
    $('items').value = JSON.stringify(items);
    submitKey = null;
  });
  // One Idempotency-Key per form content: a double click or a resubmit after a lost answer creates one batch.
  let submitKey = null;
  const newSubmitKey = () =>
    (submitKey =
      window.crypto && window.crypto.randomUUID
        ? window.crypto.randomUUID()
        : String(Date.now()) + Math.random());
  ['operation', 'items'].forEach((id) => $(id).addEventListener('input', () => (submitKey = null)));
  let submitting = false;
  $('batch-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submitting) return; // a second click while the first is on its way
    submitting = true;
    const key = submitKey || newSubmitKey();
    try {
      const batch = await api(
        'POST',
        '/batches',
        { operation: $('operation').value, items: parseItems($('items').value) },
        { 'Idempotency-Key': key },
      );
      $('submit-result').textContent = 'Submitted batch ' + batch.id;
      if (!state.batches.has(batch.id)) render(batch);
      resync(batch.id);
    } catch (err) {
      $('submit-result').textContent = err.message;
    } finally {
      submitting = false;
    }
  });
  $('flag-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const ids = (id) =>
      $(id)
        .value.split(/[\s,]+/)
        .filter(Boolean);
    const raw = $('flag-rollout').value.trim();
    const rollout = Number(raw);
    // An empty or non-numeric box is not "0 %": nothing is saved.
    if (raw === '' || !Number.isFinite(rollout) || rollout < 0 || rollout > 100) {
      $('flag-result').textContent = 'Rollout must be a number from 0 to 100; nothing was saved.';
      $('flag-rollout').setAttribute('aria-invalid', 'true');
      return;
    }
    $('flag-rollout').removeAttribute('aria-invalid');
    try {
      await api('PUT', '/feature-flags/BATCH_OPERATIONS', {
        enabled: $('flag-enabled').checked,
        rollout,
        whitelist: ids('flag-whitelist'),
        blacklist: ids('flag-blacklist'),
      });
      $('flag-result').textContent = 'Saved';
      await signIn(state.token);
    } catch (err) {
      $('flag-result').textContent = err.message;
    }
  });
  $('plan-pause').addEventListener('click', () => void planAction('pause'));
  $('plan-resume').addEventListener('click', () => void planAction('resume'));
  $('plan-abort').addEventListener('click', () => {
    if (window.confirm('Abort the rollout plan? The flag stays where it is.')) void planAction('abort');
  });
  $('plan-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    let body;
    try {
      body = JSON.parse($('plan-json').value);
    } catch {
      $('plan-result').textContent = 'The plan is not valid JSON.';
      return;
    }
    try {
      await api('PUT', '/feature-flags/BATCH_OPERATIONS/rollout-plan', body);
      $('plan-result').textContent = 'Plan started';
    } catch (err) {
      $('plan-result').textContent = err.message;
    }
    await loadFlag();
  });
  if (state.token) void signIn(state.token);
})();
