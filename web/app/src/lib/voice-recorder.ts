/** The microphone, recorded as the voice protocol wants it: MediaRecorder pieces of one WebM/Opus (or Ogg/Opus) stream, in order. */

/** MediaRecorder's timeslice: 100 ms pieces, as seed 004 describes. */
const timesliceMs = 100;
const preferredTypes = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'];

export interface VoiceRecorder {
  /** Stops recording and releases the microphone, once every recorded piece has been handed over. */
  stop(): Promise<void>;
}

/** The microphone, or an Error whose message tells the person what to do. */
export async function openMicrophone(): Promise<MediaStream> {
  if (navigator.mediaDevices?.getUserMedia === undefined) {
    throw new Error('Voice mode needs the microphone, which this browser only offers on a secure (https) page.');
  }
  if (typeof MediaRecorder === 'undefined') throw new Error('This browser cannot record audio, so voice mode is not available.');
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (failure) {
    const name = failure instanceof DOMException ? failure.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError')
      throw new Error('The microphone is blocked: allow it for this site to use voice mode.');
    if (name === 'NotFoundError') throw new Error('No microphone was found.');
    throw new Error(`The microphone is not available${failure instanceof Error ? `: ${failure.message}` : '.'}`);
  }
}

/**
 * Records `stream` continuously, handing each piece to `onPiece` in the
 * order recorded: only the first piece carries the container's header, so
 * order matters (Blob.arrayBuffer is asynchronous, hence the chain).
 */
export function startRecorder(stream: MediaStream, onPiece: (piece: ArrayBuffer) => void): VoiceRecorder {
  const mimeType = preferredTypes.find((type) => MediaRecorder.isTypeSupported(type));
  const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
  let handing: Promise<void> = Promise.resolve();
  recorder.ondataavailable = (event) => {
    if (event.data.size === 0) return;
    handing = handing.then(async () => onPiece(await event.data.arrayBuffer())).catch(() => undefined);
  };
  const stopped = new Promise<void>((resolve) => recorder.addEventListener('stop', () => resolve(), { once: true }));
  recorder.start(timesliceMs);
  return {
    async stop() {
      if (recorder.state !== 'inactive') recorder.stop();
      await stopped;
      await handing;
      for (const track of stream.getTracks()) track.stop();
    },
  };
}
