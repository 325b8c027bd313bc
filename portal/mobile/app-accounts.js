// The accounts on this phone: each shows its offline code (TOTP, computed here, so it works with
// no network) with a countdown, and can be removed from the server and the phone after a confirm.
import { ApiError, removeDevice } from './app-api.js';
import { timeStep, totp } from './app-crypto.js';
import { deleteAccount } from './app-store.js';

/** deviceId → { account, card, step } */
let views = new Map();

const $ = (id) => document.getElementById(id);

/** Replaces the list; `onRemoved(deviceId)` runs once an account is gone from the phone. */
export function renderAccounts(accounts, onRemoved) {
  views = new Map();
  const cards = accounts.map((account) => {
    const card = buildCard(account, onRemoved);
    views.set(account.deviceId, { account, card, step: undefined });
    return card;
  });
  $('accounts').replaceChildren(...cards);
  $('accounts-empty').hidden = accounts.length > 0;
  tickAccounts();
}

function buildCard(account, onRemoved) {
  const card = $('account-template').content.firstElementChild.cloneNode(true);
  card.dataset.deviceId = account.deviceId;
  card.querySelector('.account-name').textContent = `${account.username} @ ${account.issuer}`;
  card.querySelector('.code-progress').max = account.period;
  // The seed is probably gone on the server with the device, so its code would only mislead.
  if (account.revoked) {
    card.classList.add('revoked');
    card.querySelector('.account-revoked').hidden = false;
    card.querySelector('.code-block').remove();
  }
  wireRemoval(account, card, onRemoved);
  return card;
}

/** Once a second: the countdown, and a new code when the time step changes. */
export function tickAccounts(now = Date.now()) {
  for (const view of views.values()) {
    const { account, card } = view;
    if (account.revoked) continue;
    const step = timeStep(account.period, now);
    if (step !== view.step) {
      view.step = step;
      showCode(view, step, now);
    }
    const left = account.period - (Math.floor(now / 1000) % account.period);
    card.querySelector('.code-countdown').textContent = `${left} s`;
    card.querySelector('.code-progress').value = left;
  }
}

async function showCode(view, step, now) {
  const output = view.card.querySelector('.offline-code');
  try {
    const code = await totp(view.account, now);
    // A slow HMAC must not overwrite the code of a step that started meanwhile.
    if (view.step === step) output.textContent = code;
  } catch {
    output.textContent = 'Unavailable';
  }
}

// ---------------------------------------------------------------- removal

function wireRemoval(account, card, onRemoved) {
  const step = card.querySelector('.remove-step');
  const start = card.querySelector('.remove-account');
  start.addEventListener('click', () => {
    step.hidden = false;
    start.hidden = true;
    card.querySelector('.remove-cancel').focus();
  });
  card.querySelector('.remove-cancel').addEventListener('click', () => {
    step.hidden = true;
    start.hidden = false;
  });
  card
    .querySelector('.remove-confirm')
    .addEventListener('click', () =>
      remove(account, card).then((done) => done && onRemoved(account.deviceId)),
    );
}

/** A device the server no longer knows (401, 404) is removed here all the same. */
async function remove(account, card) {
  const error = card.querySelector('.remove-error');
  const buttons = card.querySelectorAll('button');
  for (const button of buttons) button.disabled = true;
  try {
    if (!account.revoked) await removeDevice(account).catch(ignoreUnknownDevice);
    await deleteAccount(account.deviceId);
    return true;
  } catch (failure) {
    error.textContent = `The account was not removed. ${failure.message ?? ''}`.trim();
    error.hidden = false;
    for (const button of buttons) button.disabled = false;
    return false;
  }
}

function ignoreUnknownDevice(failure) {
  if (failure instanceof ApiError && (failure.status === 401 || failure.status === 404)) return;
  throw failure;
}
