// The search page: a text, an image (chosen, dropped or pasted), or both, sent to /v1/search;
// results in a grid with thumbnails from /v1/items/:id/image and "More like this" buttons.
// Plain browser JavaScript, no build step.

const $ = (id) => document.getElementById(id);
const form = $('search-form');
const textInput = $('query-text');
const fileInput = $('image-file');
const dropZone = $('drop-zone');
const preview = $('image-preview');
const previewImg = $('preview-img');
const previewName = $('preview-name');
const statusLine = $('status');
const errorBox = $('error');
const results = $('results');
const heading = $('results-heading');
const keyField = $('key-field');
const keyInput = $('api-key');

/** The query image as a data URI, or null. */
let queryImage = null;
/** Object URLs made for thumbnails fetched with an API key; revoked on the next search. */
let objectUrls = [];

keyInput.value = sessionStorage.getItem('vbge-api-key') ?? '';
if (keyInput.value) keyField.hidden = false;
keyInput.addEventListener('change', () => sessionStorage.setItem('vbge-api-key', keyInput.value));

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}
function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

function authHeaders() {
  return keyInput.value ? { authorization: `Bearer ${keyInput.value}` } : {};
}

// ---- the query image: choose, drop, paste ----

function setImage(file) {
  if (!file) return;
  if (!file.type.startsWith('image/')) {
    showError(`${file.name || 'that file'} is not an image (${file.type || 'unknown type'}).`);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    queryImage = reader.result;
    previewImg.src = queryImage;
    previewName.textContent = file.name || 'pasted image';
    preview.hidden = false;
    clearError();
    statusLine.textContent = `Image ready: ${previewName.textContent}. ${textInput.value ? 'Search to run a composed query.' : 'Add a text for a composed query, or search now.'}`;
  };
  reader.onerror = () => showError(`Could not read ${file.name || 'the image'}.`);
  reader.readAsDataURL(file);
}

function removeImage() {
  queryImage = null;
  preview.hidden = true;
  previewImg.removeAttribute('src');
  fileInput.value = '';
  statusLine.textContent = 'Image removed.';
  $('choose-image').focus();
}

$('choose-image').addEventListener('click', () => fileInput.click());
$('remove-image').addEventListener('click', removeImage);
fileInput.addEventListener('change', () => setImage(fileInput.files[0]));
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('dragging');
  setImage(e.dataTransfer?.files?.[0]);
});
document.addEventListener('paste', (e) => {
  const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
  if (file) {
    e.preventDefault();
    setImage(file);
  }
});

// ---- searching ----

async function search(query, label) {
  clearError();
  statusLine.textContent = 'Searching…';
  $('search-button').disabled = true;
  try {
    const response = await fetch('/v1/search', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, k: Number($('k').value) }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401) {
        keyField.hidden = false;
        keyInput.focus();
      }
      const message = body?.error?.message ?? `the server answered ${response.status}`;
      const retry = response.headers.get('retry-after');
      showError(`Search failed: ${message}${retry ? ` (retry in ${retry} s)` : ''}`);
      statusLine.textContent = '';
      return;
    }
    render(body.data, label);
  } catch (err) {
    showError(`Search failed: the server could not be reached (${err.message}).`);
    statusLine.textContent = '';
  } finally {
    $('search-button').disabled = false;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = textInput.value.trim();
  if (!text && !queryImage) {
    showError('Type a text, add an image, or both.');
    textInput.focus();
    return;
  }
  const query = { ...(text ? { text } : {}), ...(queryImage ? { image: queryImage } : {}) };
  const label = text && queryImage ? `the image with “${text}”` : text ? `“${text}”` : 'the image';
  void search(query, label);
});

function moreLikeThis(id) {
  void search({ id }, `items like ${id}`);
}

// ---- results ----

const CORE = new Set(['id', 'path', 'text', 'score']);

async function thumbnailSrc(id) {
  const url = `/v1/items/${encodeURIComponent(id)}/image`;
  if (!keyInput.value) return url;
  // <img> cannot send an Authorization header: fetch, then show the bytes.
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) return null;
  const objectUrl = URL.createObjectURL(await response.blob());
  objectUrls.push(objectUrl);
  return objectUrl;
}

function render(hits, label) {
  objectUrls.forEach((u) => URL.revokeObjectURL(u));
  objectUrls = [];
  results.replaceChildren();
  heading.hidden = false;
  heading.textContent = `Results for ${label}`;
  statusLine.textContent = hits.length === 0 ? `No results for ${label}.` : `${hits.length} results for ${label}, best first.`;
  for (const [rank, hit] of hits.entries()) {
    const li = document.createElement('li');
    li.className = 'hit';
    li.dataset.id = hit.id;

    if (hit.path !== undefined) {
      const img = document.createElement('img');
      img.className = 'thumb';
      img.alt = hit.text ? `${hit.id}: ${hit.text}` : hit.id;
      img.loading = 'lazy';
      img.addEventListener('error', () => img.replaceWith(noThumbnail('image unavailable')));
      // The grid is built at once; thumbnails arrive as they load.
      void thumbnailSrc(hit.id).catch(() => null).then((src) => (src ? (img.src = src) : img.replaceWith(noThumbnail('image unavailable'))));
      li.append(img);
    } else {
      li.append(noThumbnail(hit.text ? 'text item' : 'no image'));
    }

    const body = document.createElement('div');
    body.className = 'body';
    const top = document.createElement('div');
    top.innerHTML = '<span class="rank"></span> <span class="score"></span>';
    top.querySelector('.rank').textContent = `#${rank + 1}`;
    top.querySelector('.score').textContent = `score ${hit.score.toFixed(4)}`;
    const id = document.createElement('div');
    id.className = 'id';
    id.textContent = hit.id;
    body.append(top, id);
    if (hit.text) {
      const text = document.createElement('div');
      text.textContent = hit.text;
      body.append(text);
    }
    const meta = Object.entries(hit).filter(([k]) => !CORE.has(k));
    if (meta.length > 0) {
      const dl = document.createElement('dl');
      for (const [k, v] of meta) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = typeof v === 'object' ? JSON.stringify(v) : String(v);
        dl.append(dt, dd);
      }
      body.append(dl);
    }
    const more = document.createElement('button');
    more.type = 'button';
    more.textContent = 'More like this';
    more.setAttribute('aria-label', `More like ${hit.id}`);
    more.addEventListener('click', () => moreLikeThis(hit.id));
    body.append(more);
    li.append(body);
    results.append(li);
  }
}

function noThumbnail(text) {
  const div = document.createElement('div');
  div.className = 'thumb nothumb';
  div.textContent = text;
  return div;
}
