// The voice assistant of seed 004 in a browser: the Socket.IO client the
// server serves, MediaRecorder in 100 ms pieces, and an <audio> element for
// the spoken replies. docs/protocols/voice.md describes every event.
import { io } from '/socket.io/socket.io.esm.min.js';

const messages = document.getElementById('messages');
const status = document.getElementById('status');
const errorLine = document.getElementById('error');
const talkButton = document.getElementById('talk');
const textForm = document.getElementById('text-form');
const textInput = document.getElementById('text-input');
const speaker = document.getElementById('speaker');

// The same sign-in token the /ai-assistant page keeps, for servers with JWT_SECRET.
const token = localStorage.getItem('parley.token');
const socket = io({ transports: ['websocket'], auth: token ? { token } : {} });

let recording;

function show(role, text) {
  const item = document.createElement('li');
  item.className = 'message';
  item.dataset.role = role;
  item.textContent = text;
  messages.append(item);
  messages.scrollTop = messages.scrollHeight;
}

function setStatus(text) {
  status.textContent = text;
}

function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = text === '';
}

/** Stops the reply being spoken: the user is talking over it (barge-in). */
function stopSpeaking() {
  if (speaker.paused) return;
  speaker.pause();
  socket.emit('interrupt');
}

function play(response) {
  if (response.audio === null) return;
  const bytes = Uint8Array.from(atob(response.audio), (character) => character.charCodeAt(0));
  if (speaker.src) URL.revokeObjectURL(speaker.src);
  speaker.src = URL.createObjectURL(new Blob([bytes], { type: response.mimeType }));
  speaker.play().catch(() => setStatus('Press play to hear the reply'));
}

async function startTalking() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const mimeType = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'].find((type) => MediaRecorder.isTypeSupported(type));
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
  // Pieces go out in the order they were recorded: only the first carries the container's header.
  let sending = Promise.resolve();
  recorder.ondataavailable = (event) => {
    if (event.data.size === 0) return;
    sending = sending.then(async () => socket.emit('audio-stream', await event.data.arrayBuffer()));
  };
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    sending.then(() => socket.emit('stop-recording'));
  };
  socket.emit('start-recording');
  recorder.start(100);
  recording = recorder;
  talkButton.textContent = 'Stop';
  talkButton.setAttribute('aria-pressed', 'true');
  setStatus('Listening…');
}

function stopTalking() {
  recording?.stop();
  recording = undefined;
  talkButton.textContent = 'Start talking';
  talkButton.setAttribute('aria-pressed', 'false');
  setStatus('Ready');
}

talkButton.addEventListener('click', () => {
  showError('');
  if (recording) return stopTalking();
  startTalking().catch((error) => showError(`The microphone is not available: ${error.message}`));
});

textForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = textInput.value.trim();
  if (text === '') return;
  showError('');
  stopSpeaking();
  show('user', text);
  socket.emit('text-message', text);
  textInput.value = '';
});

socket.on('speech-result', ({ text }) => {
  if (text === '') return setStatus('Nothing heard');
  stopSpeaking();
  show('user', text);
});
socket.on('ai-typing', ({ isTyping }) => setStatus(isTyping ? 'Thinking…' : recording ? 'Listening…' : 'Ready'));
socket.on('ai-response', (response) => {
  show('assistant', response.text);
  play(response);
});
socket.on('error', ({ message }) => showError(message));
socket.on('connect_error', (error) => showError(`Cannot reach the server: ${error.message}`));
