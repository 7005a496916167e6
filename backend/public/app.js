'use strict';
// Plain browser JavaScript: every server string is written with textContent, never as HTML.
(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    token: localStorage.getItem('batchToken') || '',
    socket: null,
    batches: new Map(),
    seq: new Map(),
  };

  function claims(token) {
    try {
      return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch {
      return null;
    }
  }

  /** Every failure becomes a sentence for people: never a raw exception. */
  async function api(method, url, body) {
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: Object.assign(
          { Authorization: 'Bearer ' + state.token },
          body ? { 'Content-Type': 'application/json' } : {},
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
  const ALLOWED = {
    pause: (b) => b.status === 'pending' || b.status === 'processing',
    resume: (b) => b.status === 'paused',
    cancel: (b) => b.status === 'pending' || b.status === 'processing' || b.status === 'paused',
    retry: (b) => (b.status === 'completed_with_errors' || b.status === 'failed') && b.failedCount > 0,
    failed: (b) => b.failedCount > 0,
    download: (b) => b.failedCount > 0,
  };

  /** Item errors quote the schema; say the DOI rule in words. */
  function readableError(text) {
    return String(text || '').replace(
      /must match \^10\\\.\\d\{4,9\}\/\\S\+\$/g,
      'must be a DOI such as 10.1000/xyz',
    );
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
    status.textContent = b.status;
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
    li.querySelector('.fill').style.width = b.percentage + '%';
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
    render(Object.assign({ id: event.batchId }, event));
  }

  function connect() {
    if (state.socket) state.socket.close();
    state.socket = io('/batches', { auth: { token: state.token } });
    state.socket.on('batch-progress', onEvent);
    state.socket.on('batch-complete', onEvent);
    state.socket.on('batch-error', (e) => ($('submit-result').textContent = e.code + ': ' + e.message));
    state.socket.on(
      'connect_error',
      (err) => ($('who').textContent = 'Socket refused: ' + ((err.data && err.data.code) || err.message)),
    );
    state.socket.on('connect', () => state.batches.forEach((b) => resync(b.id)));
  }

  /** A new sign-in starts from an empty page: nothing of the previous user stays on screen. */
  function clearUserView() {
    if (state.socket) state.socket.close();
    state.socket = null;
    state.batches.clear();
    state.seq.clear();
    $('batches').replaceChildren();
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
      $('flag-whitelist').value = flag.whitelist.join('\n');
      $('flag-blacklist').value = flag.blacklist.join('\n');
    } catch (e) {
      $('flag-result').textContent = e.message;
    }
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
  });
  $('batch-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const batch = await api('POST', '/batches', {
        operation: $('operation').value,
        items: parseItems($('items').value),
      });
      $('submit-result').textContent = 'Submitted batch ' + batch.id;
      if (!state.batches.has(batch.id)) render(batch);
      resync(batch.id);
    } catch (err) {
      $('submit-result').textContent = err.message;
    }
  });
  $('flag-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const ids = (id) => $(id).value.split(/\s+/).filter(Boolean);
    try {
      await api('PUT', '/feature-flags/BATCH_OPERATIONS', {
        enabled: $('flag-enabled').checked,
        rollout: Number($('flag-rollout').value),
        whitelist: ids('flag-whitelist'),
        blacklist: ids('flag-blacklist'),
      });
      $('flag-result').textContent = 'Saved';
      await signIn(state.token);
    } catch (err) {
      $('flag-result').textContent = err.message;
    }
  });
  if (state.token) void signIn(state.token);
})();
