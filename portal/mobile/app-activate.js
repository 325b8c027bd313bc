// Activation: the phone makes its own key pair (the private half never leaves it), trades the
// one-time code from the enrollment portal for its account, and keeps only CryptoKeys.
import { activate } from './app-api.js';
import { generateDeviceKey, importTotpKey } from './app-crypto.js';
import { saveAccount } from './app-store.js';

const $ = (id) => document.getElementById(id);

/** Codes are read aloud and typed on phones: any case, spaces or missing dashes are fine. */
export function normalizeCode(raw) {
  const clean = raw.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return (clean.match(/.{1,4}/g) ?? []).join('-');
}

function guessDeviceName() {
  const agent = navigator.userAgent;
  if (/iPhone/.test(agent)) return 'iPhone';
  if (/iPad/.test(agent)) return 'iPad';
  const platform = navigator.userAgentData?.platform || navigator.platform || '';
  if (/Android/i.test(platform) || /Android/.test(agent)) return 'Android phone';
  if (navigator.userAgentData?.mobile || platform === '') return 'Phone';
  return `${platform.split(' ')[0]} browser`;
}

function showError(message) {
  const error = $('activate-error');
  error.textContent = message;
  error.hidden = message === '';
}

function setBusy(busy) {
  const button = $('activate-button');
  button.disabled = busy;
  button.textContent = busy ? 'Activating…' : 'Activate';
}

/** Shows the form; `onActivated(account, pinRequired)` runs once the account is stored. */
export function showActivateView(hasAccounts, onActivated) {
  $('activate-view').hidden = false;
  $('activate-back').hidden = !hasAccounts;
  $('activate-code').value = normalizeCode(new URLSearchParams(location.search).get('c') ?? '');
  $('device-name').value ||= guessDeviceName();
  $('activate-form').addEventListener('submit', (event) => {
    event.preventDefault();
    submit(onActivated);
  });
  ($('activate-code').value === '' ? $('activate-code') : $('activate-button')).focus();
}

async function submit(onActivated) {
  const code = normalizeCode($('activate-code').value);
  const deviceName = $('device-name').value.trim();
  if (code === '') return showError('Enter the activation code from the enrollment portal.');
  if (deviceName === '') return showError('Enter a name for this device.');
  showError('');
  setBusy(true);
  try {
    const keys = await generateDeviceKey();
    const answer = await activate(code, deviceName, keys.publicKey);
    const account = await toAccount(answer, keys.privateKey);
    await saveAccount(account).catch((error) => {
      throw new Error(
        `The phone was activated but this browser could not store the account (${error?.message}).`,
      );
    });
    $('activate-code').value = '';
    onActivated(account, answer.pinRequired === true);
  } catch (error) {
    showError(error?.message || 'Activation failed. Try again.');
  } finally {
    setBusy(false);
  }
}

/** The base32 seed is turned into a non-extractable key here and not kept anywhere. */
async function toAccount(answer, privateKey) {
  const totp = answer?.totp;
  const valid =
    typeof answer?.deviceId === 'string' &&
    typeof totp?.secret === 'string' &&
    Number.isInteger(totp.digits) &&
    totp.digits >= 6 &&
    totp.digits <= 10 &&
    Number.isInteger(totp.period) &&
    totp.period > 0;
  if (!valid) throw new Error('The server sent an answer this app does not understand.');
  return {
    deviceId: answer.deviceId,
    username: String(answer.username ?? ''),
    issuer: String(answer.issuer ?? ''),
    origin: location.origin,
    privateKey,
    totpKey: await importTotpKey(totp.secret, totp.algorithm),
    digits: totp.digits,
    period: totp.period,
    algorithm: totp.algorithm,
    createdAt: Date.now(),
  };
}
