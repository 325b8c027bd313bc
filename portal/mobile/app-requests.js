// The pending sign-in requests: one card each, answered by tapping the number shown on the
// sign-in screen (with the PIN when asked), denied, or reported as fraud after a confirm step.
import { ApiError, answerRequest } from './app-api.js';

/** requestId → { request, account, card, deadline } */
const entries = new Map();
/** Requests answered or expired here, so a poll that raced the answer does not bring them back. */
const settled = new Set();

const $ = (id) => document.getElementById(id);

const OUTCOMES = {
  approved: 'Approved',
  denied: 'Denied',
  fraud: 'Reported as fraud',
  wrong_number: 'Wrong number: the sign-in was denied',
  wrong_pin: 'Wrong PIN',
  request_answered: 'This request was already answered',
  request_expired: 'This request expired',
};

function showResult(key, text = OUTCOMES[key]) {
  const result = $('request-result');
  result.textContent = text;
  result.dataset.outcome = key;
  result.hidden = false;
}

function isRequest(value) {
  return (
    typeof value?.id === 'string' &&
    Array.isArray(value.choices) &&
    typeof value.nonce === 'string' &&
    Number.isFinite(value.expiresAt)
  );
}

/**
 * Adds the requests not shown yet. `serverTime` (the answer's Date header) corrects the expiry for
 * a phone clock that is off. Returns true when at least one was new.
 */
export function showRequests(account, requests, serverTime) {
  const skew = serverTime === undefined ? 0 : serverTime - Date.now();
  let anyNew = false;
  for (const request of requests) {
    if (!isRequest(request) || entries.has(request.id) || settled.has(request.id)) continue;
    const entry = { request, account, deadline: request.expiresAt - skew };
    entry.card = buildCard(entry, skew);
    entries.set(request.id, entry);
    $('requests').append(entry.card);
    anyNew = true;
  }
  if (anyNew) {
    navigator.vibrate?.(200);
    refreshEmpty();
    tickRequests();
  }
  return anyNew;
}

function settle(entry) {
  settled.add(entry.request.id);
  entries.delete(entry.request.id);
  entry.card.remove();
  refreshEmpty();
}

function refreshEmpty() {
  $('requests-empty').hidden = entries.size > 0;
}

/** Forgets the cards of an account that was removed or revoked. */
export function dropAccountRequests(deviceId) {
  for (const entry of [...entries.values()]) if (entry.account.deviceId === deviceId) settle(entry);
}

/** Once a second: countdowns, and cards past their expiry go away. */
export function tickRequests(now = Date.now()) {
  for (const entry of [...entries.values()]) {
    const left = Math.ceil((entry.deadline - now) / 1000);
    if (left <= 0) {
      settle(entry);
      showResult('request_expired');
    } else {
      entry.card.querySelector('.request-expiry').textContent =
        `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    }
  }
}

// ---------------------------------------------------------------- one card

function buildCard(entry, skew) {
  const { request, account } = entry;
  const card = $('request-template').content.firstElementChild.cloneNode(true);
  card.dataset.requestId = request.id;
  card.querySelector('.request-app').textContent = String(request.application ?? 'An application');
  card.querySelector('.request-client').textContent = String(request.clientAddress ?? 'unknown');
  const time = card.querySelector('.request-time');
  const created = new Date((Number(request.createdAt) || Date.now()) - skew);
  time.dateTime = created.toISOString();
  time.textContent = created.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  card.querySelector('.request-account').textContent = `${account.username} @ ${account.issuer}`;
  const choices = card.querySelector('.choices');
  if (request.choices.length === 0) {
    // Out of band (a VPN, a Basic sign-in): no screen shows a number, so the user only approves.
    card.querySelector('.request-prompt').textContent = 'Approve this sign-in if it is yours';
    choices.append(approveButton(entry));
  }
  for (const number of request.choices) choices.append(choiceButton(entry, number));
  if (!request.pinRequired) card.querySelector('.pin-field').remove();
  wireDenyAndFraud(entry, card);
  return card;
}

function choiceButton(entry, number) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'choice';
  button.dataset.number = String(number);
  button.textContent = String(number);
  button.addEventListener('click', () => answer(entry, 'approve', Number(number)));
  return button;
}

function approveButton(entry) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'approve';
  button.textContent = 'Approve';
  button.addEventListener('click', () => answer(entry, 'approve', null));
  return button;
}

function wireDenyAndFraud(entry, card) {
  const step = card.querySelector('.fraud-step');
  card.querySelector('.deny').addEventListener('click', () => answer(entry, 'deny', null));
  card.querySelector('.fraud').addEventListener('click', () => {
    step.hidden = false;
    card.querySelector('.fraud-confirm').focus();
  });
  card.querySelector('.fraud-cancel').addEventListener('click', () => {
    step.hidden = true;
  });
  card.querySelector('.fraud-confirm').addEventListener('click', () => answer(entry, 'fraud', null));
}

function cardError(card, message) {
  const error = card.querySelector('.request-error');
  error.textContent = message;
  error.hidden = message === '';
}

function setBusy(card, busy) {
  card.setAttribute('aria-busy', String(busy));
  for (const control of card.querySelectorAll('button, input')) control.disabled = busy;
}

// ---------------------------------------------------------------- answering

/** The PIN proves it is the owner approving, so only an approval carries it. */
function readPin(entry, decision) {
  if (decision !== 'approve' || !entry.request.pinRequired) return { pin: undefined };
  const input = entry.card.querySelector('input.pin');
  const pin = input.value.trim();
  if (pin === '') {
    input.focus();
    return { error: 'Enter your PIN, then tap the number.' };
  }
  return { pin };
}

async function answer(entry, decision, number) {
  if (!entries.has(entry.request.id)) return;
  const { pin, error } = readPin(entry, decision);
  if (error) return cardError(entry.card, error);
  cardError(entry.card, '');
  setBusy(entry.card, true);
  try {
    const result = await answerRequest(entry.account, entry.request, decision, number, pin);
    settle(entry);
    const reason = result?.state === 'denied' ? result.reason : undefined;
    const key = OUTCOMES[reason] ? reason : result?.state;
    showResult(OUTCOMES[key] ? key : 'denied');
  } catch (failure) {
    answerFailed(entry, failure);
  }
}

/** Network trouble and server faults leave the card for another try; anything else is final. */
function answerFailed(entry, failure) {
  const status = failure instanceof ApiError ? failure.status : 0;
  if (status === 0 || status === 429 || status >= 500) {
    setBusy(entry.card, false);
    cardError(entry.card, failure.message || 'The answer was not sent. Try again.');
    return;
  }
  settle(entry);
  if (failure.code === 'mobile.request_answered' || status === 409) showResult('request_answered');
  else if (failure.code === 'mobile.request_expired' || status === 410) showResult('request_expired');
  else showResult('error', failure.message);
}
