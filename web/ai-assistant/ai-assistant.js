// The AI Assistant page of seed 002: chat sessions over /api/v1/chat, replies
// streamed as Server-Sent Events read with fetch (docs/protocols/chat-sessions.md).
// No build step: the server serves this file as it is, and marked and
// DOMPurify as the ES modules their packages ship.

import { marked } from '/ai-assistant/vendor/marked.js';
import DOMPurify from '/ai-assistant/vendor/purify.js';

const api = '/api/v1/chat';
const sessionKey = 'parley.ai-assistant.session';
/** The reply streaming in this tab, to pick up again after a refresh. */
const replyKey = 'parley.ai-assistant.streaming-reply';
const tokenKey = 'parley.token';
/** How many of a session's latest messages a reload shows. */
const historyLimit = 100;

const elements = {
  messages: document.getElementById('messages'),
  emptyState: document.getElementById('empty-state'),
  error: document.getElementById('error'),
  errorText: document.getElementById('error-text'),
  retry: document.getElementById('retry'),
  composer: document.getElementById('composer'),
  input: document.getElementById('input'),
  send: document.getElementById('send'),
  newChat: document.getElementById('new-chat'),
  tokenSettings: document.getElementById('token-settings'),
  tokenForm: document.getElementById('token-form'),
  tokenInput: document.getElementById('token-input'),
};

const state = {
  sessionId: sessionStorage.getItem(sessionKey),
  busy: false,
  /** The message to send again when the user clicks Retry. */
  failedContent: undefined,
};

class ChatError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function requestHeaders(extra = {}) {
  const headers = { ...extra };
  const token = localStorage.getItem(tokenKey);
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function call(path, init = {}) {
  const response = await fetch(`${api}${path}`, { ...init, headers: requestHeaders(init.headers) });
  if (response.ok) return response;
  let message = `The server answered ${response.status}`;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
  } catch {
    // Not JSON: keep the status line.
  }
  throw new ChatError(message, response.status);
}

function postJson(path, body, headers = {}) {
  return call(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Calls onEvent with each `data:` event of a Server-Sent Events body, as it arrives. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary;
    while ((boundary = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) onEvent(JSON.parse(line.slice('data: '.length)));
      }
    }
  }
}

/** Replies are Markdown: rendered, then sanitized, since a model can be talked into writing any HTML. */
function renderReply(bubble, markdown) {
  bubble.innerHTML = DOMPurify.sanitize(marked.parse(markdown, { async: false, gfm: true, breaks: true }));
}

function addMessage(role, content) {
  elements.emptyState.hidden = true;
  const message = document.createElement('div');
  message.className = `message ${role}`;
  message.dataset.role = role;
  const avatar = document.createElement('div');
  avatar.className = 'avatar';
  avatar.textContent = role === 'user' ? 'You' : 'AI';
  avatar.setAttribute('aria-hidden', 'true');
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  // The user's own words are shown as typed: text, never markup.
  if (role === 'assistant') renderReply(bubble, content);
  else bubble.textContent = content;
  message.append(avatar, bubble);
  elements.messages.append(message);
  scrollToEnd();
  return message;
}

function scrollToEnd() {
  elements.messages.scrollTop = elements.messages.scrollHeight;
}

function showError(message, canRetry) {
  elements.errorText.textContent = message;
  elements.retry.hidden = !canRetry;
  elements.error.hidden = false;
}

function hideError() {
  elements.error.hidden = true;
}

function setBusy(busy) {
  state.busy = busy;
  elements.send.disabled = busy;
  for (const button of document.querySelectorAll('.quick-prompt')) button.disabled = busy;
}

function fitInput() {
  elements.input.style.height = 'auto';
  elements.input.style.height = `${elements.input.scrollHeight}px`;
}

function rememberSession(sessionId) {
  state.sessionId = sessionId;
  if (sessionId === undefined) sessionStorage.removeItem(sessionKey);
  else sessionStorage.setItem(sessionKey, sessionId);
}

async function ensureSession(firstMessage) {
  if (state.sessionId) return state.sessionId;
  const title = firstMessage.length > 60 ? `${firstMessage.slice(0, 57)}…` : firstMessage;
  const session = await (await postJson('/sessions', { title, mode: 'general' })).json();
  rememberSession(session.id);
  return session.id;
}

async function send(content) {
  if (state.busy || content.trim() === '') return;
  hideError();
  setBusy(true);
  state.failedContent = undefined;
  const userMessage = addMessage('user', content);
  const reply = addMessage('assistant', '');
  reply.classList.add('typing');
  try {
    const sendTo = (sessionId) => postJson('/messages?stream=true', { session_id: sessionId, content }, { Accept: 'text/event-stream' });
    let response;
    try {
      response = await sendTo(await ensureSession(content));
    } catch (error) {
      // A session deleted elsewhere: start a new one and send again, once.
      if (!(error instanceof ChatError) || error.status !== 404) throw error;
      rememberSession(undefined);
      response = await sendTo(await ensureSession(content));
    }
    await streamReply(response, reply);
  } catch (error) {
    reply.remove();
    userMessage.remove();
    if (elements.messages.querySelectorAll('.message').length === 0) elements.emptyState.hidden = false;
    state.failedContent = content;
    const message = error instanceof ChatError ? error.message : 'The server could not be reached.';
    if (error instanceof ChatError && error.status === 401) {
      elements.tokenSettings.open = true;
      showError(`${message}. This server needs a sign-in token.`, true);
    } else {
      showError(message, true);
    }
  } finally {
    setBusy(false);
  }
}

/**
 * Renders a streamed reply into its bubble as it arrives. While it streams,
 * its id is kept in sessionStorage: a page refreshed meanwhile picks the
 * reply up again (resumeReply), since the server goes on generating it.
 */
async function streamReply(response, reply) {
  const bubble = reply.querySelector('.bubble');
  let failure;
  let text = '';
  // Re-rendered at most once a frame, however many deltas arrive in between.
  let frame;
  const render = () => {
    frame = undefined;
    renderReply(bubble, text);
    scrollToEnd();
  };
  try {
    await readEvents(response, (event) => {
      if (event.type === 'message_start') {
        sessionStorage.setItem(replyKey, event.message_id);
      } else if (event.type === 'delta') {
        text += event.content;
        frame ??= requestAnimationFrame(render);
      } else if (event.type === 'done') {
        text = event.message.content;
      } else if (event.type === 'error') {
        failure = new ChatError(event.message, 200);
      }
    });
  } finally {
    if (frame !== undefined) cancelAnimationFrame(frame);
  }
  sessionStorage.removeItem(replyKey);
  if (failure !== undefined) throw failure;
  render();
  reply.classList.remove('typing');
}

/**
 * After a refresh mid-reply, or on another device: the reply so far, then
 * the rest as it comes, unless the history already holds it ended.
 */
async function resumeReply(inProgressId, endedIds) {
  const replyId = inProgressId ?? sessionStorage.getItem(replyKey);
  if (replyId === null || endedIds.has(replyId)) return sessionStorage.removeItem(replyKey);
  const reply = addMessage('assistant', '');
  reply.classList.add('typing');
  setBusy(true);
  try {
    await streamReply(await call(`/replies/${encodeURIComponent(replyId)}/stream`), reply);
  } catch (error) {
    reply.remove();
    sessionStorage.removeItem(replyKey);
    // No longer kept (or another user's): the history shows what was stored.
    if (!(error instanceof ChatError && error.status === 404)) showError(error instanceof ChatError ? error.message : 'The server could not be reached.', false);
  } finally {
    setBusy(false);
  }
}

async function loadHistory() {
  if (!state.sessionId) return;
  try {
    const path = `/messages/${encodeURIComponent(state.sessionId)}?limit=${historyLimit}`;
    let page = await (await call(path)).json();
    if (page.total_pages > 1) page = await (await call(`${path}&page=${page.total_pages}`)).json();
    // A reply still being generated is shown by its stream, from its start.
    const ended = page.messages.filter((message) => message.status !== 'in_progress');
    for (const message of ended) {
      if (message.content !== '') addMessage(message.role, message.content);
    }
    const inProgress = page.messages.find((message) => message.status === 'in_progress');
    await resumeReply(inProgress?.id, new Set(ended.map((message) => message.id)));
  } catch (error) {
    if (error instanceof ChatError && error.status === 404) rememberSession(undefined);
    else showError(error instanceof ChatError ? error.message : 'The server could not be reached.', false);
  }
}

function startNewChat() {
  rememberSession(undefined);
  for (const message of elements.messages.querySelectorAll('.message')) message.remove();
  elements.emptyState.hidden = false;
  hideError();
  elements.input.focus();
}

function submitInput() {
  const content = elements.input.value;
  if (state.busy || content.trim() === '') return;
  elements.input.value = '';
  fitInput();
  void send(content);
}

elements.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  submitInput();
});
elements.input.addEventListener('keydown', (event) => {
  // Enter sends, Shift+Enter is a new line; never while an input method is composing.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submitInput();
  }
});
elements.input.addEventListener('input', fitInput);
for (const button of document.querySelectorAll('.quick-prompt')) {
  button.addEventListener('click', () => void send(button.textContent.trim()));
}
elements.retry.addEventListener('click', () => {
  if (state.failedContent !== undefined) void send(state.failedContent);
});
elements.newChat.addEventListener('click', startNewChat);
elements.tokenInput.value = localStorage.getItem(tokenKey) ?? '';
elements.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = elements.tokenInput.value.trim();
  if (token === '') localStorage.removeItem(tokenKey);
  else localStorage.setItem(tokenKey, token);
  // The error (and its Retry) stays: sending the failed message again is the user's call.
  elements.tokenSettings.open = false;
});

void loadHistory();
