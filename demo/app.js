// The demo timeline: a social platform's page that renders hashback offers on its posts. It uses
// only the public GraphQL API (HTTP for queries and mutations, graphql-ws for live events), plus
// the server's development-only /demo/simulate-purchase, which plays the card partner.
import { createClient } from './vendor/graphql-ws/client.js';

const GRAPHQL_URL = '/graphql';
const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
const TOKEN_KEY = 'hashback-demo-token';

/** The platform's own posts; hashback says which carry an offer. demo-post-1001 is seeded. */
const TIMELINE = [
  { id: 'demo-post-0998', author: '@cityeats', name: 'City Eats', text: 'Three coffee shops worth the walk this week. Number one has the best oat flat white in Midtown.', ago: '12 min' },
  { id: 'demo-post-1001', ago: '25 min' },
  { id: 'demo-post-0997', author: '@readinglist', name: 'Reading List', text: 'What are you reading this weekend? Reply with one book, no spoilers.', ago: '1 h' },
];

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY);
let viewer = null;
let wsClient = null;
let unsubscribers = [];

// --- small helpers --------------------------------------------------------------------------

/** Builds an element; children are nodes or text (never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child);
  return el;
}

function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 3500);
}

function showError(id, message) {
  const el = $(id);
  el.textContent = message ?? '';
  el.hidden = !message;
}

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

async function gql(query, variables = {}) {
  const response = await fetch(GRAPHQL_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (response.status === 401 && token) {
    signOut();
    throw new Error('Your session ended; log in again.');
  }
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

/** A mutation's payload; its first userError becomes the thrown message. */
async function mutate(name, query, input) {
  const data = await gql(query, { input });
  const payload = data[name];
  if (payload.userErrors?.length) throw Object.assign(new Error(payload.userErrors[0].message), { code: payload.userErrors[0].code });
  return payload;
}

/** A sandbox test card: a fresh Luhn-valid Visa number (cards are unique per user). */
function testCardNumber() {
  const digits = [4, ...Array.from({ length: 14 }, () => Math.floor(Math.random() * 10))];
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits[digits.length - 1 - i];
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  digits.push((10 - (sum % 10)) % 10);
  return digits.join('').replace(/(\d{4})(?=\d)/g, '$1 ');
}

// --- timeline -------------------------------------------------------------------------------

const OFFER_FIELDS = `id title description rewardSummary kind status endsAt activationRequired
  minSpend { formatted } merchant { name socialHandle }`;

function offerCard(offer) {
  const activated = Boolean(viewer && offer.viewerHasActivated);
  const node = h('div', { class: 'offer', 'data-offer-id': offer.id },
    h('div', {},
      h('p', { class: 'offer-title' }, offer.title),
      h('p', { class: 'offer-sub' }, `${offer.merchant.name}${offer.minSpend ? ` · min. spend ${offer.minSpend.formatted}` : ''} · until ${new Date(offer.endsAt).toLocaleDateString()}`),
      h('span', { class: 'offer-reward' }, offer.rewardSummary)),
    h('div', { class: 'offer-actions' },
      h('button', {
        type: 'button',
        class: `get-offer${activated ? ' activated' : ''}`,
        'data-action': 'get-offer',
        disabled: activated,
        onclick: (event) => getOffer(offer, event.currentTarget),
      }, activated ? '✓ Offer saved' : 'Get Offer')),
  );
  if (activated) node.append(simulateRow(offer));
  return node;
}

function simulateRow(offer) {
  const amount = h('input', { type: 'number', min: '0.01', step: '0.01', value: '42.00', 'aria-label': 'Purchase amount in dollars', 'data-field': 'amount' });
  return h('div', { class: 'simulate' },
    h('span', {}, 'Pay at the merchant:'),
    h('label', {}, '$', amount),
    h('button', { type: 'button', class: 'secondary', 'data-action': 'simulate', onclick: (event) => simulatePurchase(offer, amount, event.currentTarget) }, 'Simulate a purchase'));
}

function postItem({ author, name, text, ago, brand }, offer) {
  const initials = (name || author).replace(/[^A-Za-z]/g, '').slice(0, 2).toUpperCase();
  return h('li', { class: 'post' },
    h('div', { class: 'post-head' },
      h('div', { class: `avatar${brand ? ' brand-avatar' : ''}`, 'aria-hidden': 'true' }, initials),
      h('div', {}, h('div', { class: 'post-author' }, name || author), h('div', { class: 'post-meta' }, `${author} · ${ago}`))),
    h('p', { class: 'post-text' }, text),
    offer ? offerCard(offer) : null);
}

async function renderTimeline() {
  const viewerFields = viewer ? ' viewerHasActivated' : '';
  const data = await gql(`query DemoTimeline($postIds: [ID!]!) {
    offersForPosts(postIds: $postIds) { postId post { externalId authorHandle text } offer { ${OFFER_FIELDS}${viewerFields} } }
    offers(first: 10, orderBy: BEST_REWARD, filter: { country: "US" }) { edges { node { ${OFFER_FIELDS}${viewerFields} } } }
  }`, { postIds: TIMELINE.map((p) => p.id) });

  const byId = new Map(data.offersForPosts.map((p) => [p.postId, p]));
  const shown = new Set();
  const posts = TIMELINE.map((item) => {
    const found = byId.get(item.id);
    if (found?.post && found.offer) {
      shown.add(found.offer.id);
      const merchant = found.offer.merchant;
      return postItem({ author: found.post.authorHandle, name: merchant.name, text: found.post.text, ago: item.ago, brand: true }, found.offer);
    }
    return item.text ? postItem(item) : null;
  });
  $('posts').replaceChildren(...posts.filter(Boolean));

  const more = data.offers.edges
    .map((e) => e.node)
    .filter((o) => o.kind === 'CASHBACK' && !shown.has(o.id))
    .map((o) => h('li', { class: 'post' },
      h('div', { class: 'post-head' },
        h('div', { class: 'avatar brand-avatar', 'aria-hidden': 'true' }, o.merchant.name.slice(0, 2).toUpperCase()),
        h('div', {}, h('div', { class: 'post-author' }, o.merchant.name), h('div', { class: 'sponsored' }, 'Offer'))),
      o.description ? h('p', { class: 'post-text' }, o.description) : null,
      offerCard(o)));
  $('more-offers').replaceChildren(...more);
}

async function getOffer(offer, button) {
  if (!viewer) {
    toast('Sign up or log in first, then link a card.');
    $('email').focus();
    return;
  }
  button.disabled = true;
  try {
    await mutate('activateOffer', `mutation DemoGetOffer($input: ActivateOfferInput!) {
      activateOffer(input: $input) { offer { id viewerHasActivated } userErrors { field code message } } }`, { offerId: offer.id });
    toast(`Saved: ${offer.title}`);
    await renderTimeline();
  } catch (error) {
    button.disabled = false;
    toast(error.code === 'NO_CARD_LINKED' ? 'Link a card first (right-hand panel).' : error.message);
  }
}

async function simulatePurchase(offer, amountInput, button) {
  const amount = Math.round(Number(amountInput.value) * 100);
  if (!Number.isInteger(amount) || amount < 1) {
    toast('Enter an amount in dollars, e.g. 42.00');
    return;
  }
  button.disabled = true;
  try {
    const response = await fetch('/demo/simulate-purchase', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ offerId: offer.id, amount }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error?.message ?? `The simulation failed (HTTP ${response.status}).`);
    const result = body.result;
    toast(result.outcome === 'QUALIFIED'
      ? `Purchase posted by the card partner: ${result.cashback.amount.formatted} cashback on its way…`
      : `Purchase posted, no cashback: ${result.reason ?? result.outcome}`);
  } catch (error) {
    toast(error.message);
  } finally {
    button.disabled = false;
  }
}

// --- account and card -----------------------------------------------------------------------

let mode = 'signup';
function setMode(next) {
  mode = next;
  $('tab-signup').setAttribute('aria-selected', String(next === 'signup'));
  $('tab-login').setAttribute('aria-selected', String(next === 'login'));
  $('name-row').hidden = next !== 'signup';
  $('auth-submit').textContent = next === 'signup' ? 'Create account' : 'Log in';
  $('password').autocomplete = next === 'signup' ? 'new-password' : 'current-password';
}

async function submitAuth(event) {
  event.preventDefault();
  showError('account-error');
  const email = $('email').value.trim();
  const password = $('password').value;
  try {
    const payload = mode === 'signup'
      ? await mutate('signUp', `mutation DemoSignUp($input: SignUpInput!) { signUp(input: $input) { token userErrors { field code message } } }`,
        { email, password, displayName: $('display-name').value.trim() || 'Demo user', country: 'US' })
      : await mutate('logIn', `mutation DemoLogIn($input: LogInInput!) { logIn(input: $input) { token userErrors { field code message } } }`, { email, password });
    token = payload.token;
    sessionStorage.setItem(TOKEN_KEY, token);
    await signedIn();
  } catch (error) {
    showError('account-error', error.message);
  }
}

function signOut() {
  token = null;
  viewer = null;
  sessionStorage.removeItem(TOKEN_KEY);
  renderAccount();
  connectLive();
  renderTimeline().catch((error) => toast(error.message));
}

function renderAccount() {
  $('signed-out').hidden = Boolean(viewer);
  $('signed-in').hidden = !viewer;
  $('card-panel').hidden = !viewer;
  $('cashback-panel').hidden = !viewer;
  $('logout').hidden = !viewer;
  $('account-badge').hidden = !viewer;
  $('account-badge').textContent = viewer?.email ?? '';
  $('viewer-email').textContent = viewer?.email ?? '';
  $('cards').replaceChildren(...(viewer?.cards ?? []).map((c) =>
    h('li', { class: 'card-chip' }, h('span', {}, `${c.network} •••• ${c.last4}`), h('span', {}, `${String(c.expMonth).padStart(2, '0')}/${String(c.expYear).slice(-2)}`))));
  $('card-form').hidden = Boolean(viewer?.cards?.length);
}

async function loadViewer() {
  const data = await gql(`query DemoViewer { viewer { id email displayName cards { id network last4 expMonth expYear } emails(first: 5) { subject createdAt status } } }`);
  viewer = data.viewer;
  renderAccount();
  renderEmails(viewer?.emails ?? []);
}

function renderEmails(emails) {
  $('emails').replaceChildren(...(emails.length
    ? emails.map((e) => h('li', {}, h('div', {}, e.subject), h('div', { class: 'when' }, `${time(e.createdAt)} · ${e.status.toLowerCase()}`)))
    : [h('li', { class: 'empty' }, 'No e-mails yet.')]));
}

async function signedIn() {
  await loadViewer();
  if (!viewer) throw new Error('The server did not recognise the token.');
  connectLive();
  await renderTimeline();
}

async function linkCard(event) {
  event.preventDefault();
  showError('card-error');
  try {
    await mutate('linkCard', `mutation DemoLinkCard($input: LinkCardInput!) { linkCard(input: $input) { card { id } userErrors { field code message } } }`, {
      number: $('card-number').value,
      expMonth: Number($('card-month').value),
      expYear: Number($('card-year').value),
    });
    $('card-number').value = '';
    toast('Card linked. Now tap Get Offer on a post.');
    await loadViewer();
  } catch (error) {
    showError('card-error', error.message);
  }
}

// --- live -----------------------------------------------------------------------------------

function addToFeed(listId, item) {
  const list = $(listId);
  list.querySelector('.empty')?.remove();
  item.classList.add('fresh');
  list.prepend(item);
  while (list.children.length > 20) list.lastElementChild.remove();
}

function subscribe(query, variables, onData) {
  return wsClient.subscribe({ query, variables }, {
    next: (result) => (result.errors ? toast(result.errors[0].message) : onData(result.data)),
    error: (error) => console.warn('subscription ended', error),
    complete: () => undefined,
  });
}

/** One WebSocket per identity: the user's token goes in connection_init. */
async function connectLive() {
  for (const stop of unsubscribers) stop();
  unsubscribers = [];
  await wsClient?.dispose();
  const status = $('live-status');
  const authorization = token ? `Bearer ${token}` : undefined;
  wsClient = createClient({
    url: WS_URL,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: {
      connected: () => { status.dataset.state = 'live'; status.textContent = 'live'; },
      closed: () => { status.dataset.state = 'offline'; status.textContent = 'reconnecting…'; },
    },
  });

  unsubscribers.push(subscribe(`subscription DemoOfferFeed { offerFeed(filter: { country: "US" }) { type at offer { id title rewardSummary merchant { name } } } }`, {}, ({ offerFeed: e }) => {
    addToFeed('offer-feed', h('li', {}, h('span', { class: `badge ${e.type}` }, e.type), `${e.offer.merchant.name}: ${e.offer.title} `, h('span', { class: 'when' }, `· ${e.offer.rewardSummary} · ${time(e.at)}`)));
    if (e.type === 'LIVE' || e.type === 'CREATED') renderTimeline().catch(() => undefined);
  }));

  if (viewer) {
    // Start from where the event log stands now, so nothing slips by while the subscription registers.
    const { eventCursor } = await gql('query DemoCursor { eventCursor }');
    unsubscribers.push(subscribe(`subscription DemoCashback($after: String) { purchaseConfirmations(after: $after) {
        type status at amount { formatted } cashback { purchaseAmount { formatted } merchant { name } offer { title } } } }`, { after: eventCursor },
      async ({ purchaseConfirmations: c }) => {
        addToFeed('confirmations', h('li', { 'data-status': c.status },
          h('span', { class: `badge ${c.status}` }, c.status),
          h('span', { class: 'amount' }, c.amount.formatted), ` cashback at ${c.cashback?.merchant?.name ?? 'a merchant'}`,
          h('div', { class: 'when' }, `on a ${c.cashback?.purchaseAmount?.formatted ?? ''} purchase · ${time(c.at)}`)));
        toast(`${c.amount.formatted} cashback ${c.status.toLowerCase()}!`);
        const data = await gql('query DemoEmails { viewer { emails(first: 5) { subject createdAt status } } }');
        renderEmails(data.viewer?.emails ?? []);
      }));
  }
}

// --- start ----------------------------------------------------------------------------------

$('tab-signup').addEventListener('click', () => setMode('signup'));
$('tab-login').addEventListener('click', () => setMode('login'));
$('auth-form').addEventListener('submit', submitAuth);
$('logout').addEventListener('click', signOut);
$('card-form').addEventListener('submit', linkCard);
$('test-card').addEventListener('click', () => ($('card-number').value = testCardNumber()));
$('card-year').value = String(new Date().getFullYear() + 3);
$('email').value = `ada+${Math.random().toString(36).slice(2, 8)}@example.com`;
setMode('signup');

(async () => {
  if (token) await loadViewer().catch(() => signOut());
  renderAccount();
  connectLive();
  await renderTimeline();
})().catch((error) => toast(`Could not load the timeline: ${error.message}`));
