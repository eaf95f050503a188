import { pcmSampleRate } from './speech-engines.js';

const headerBytes = 44;
const channels = 1;
const bytesPerSample = 2;

/**
 * Wraps 16-bit mono PCM in the canonical 44-byte RIFF/WAVE header, the one
 * container every speech engine reads (Whisper's upload, pocketsphinx's
 * -infile, which expects exactly this header and no extra chunks).
 * See http://soundfile.sapp.org/doc/WaveFormat/
 */
export function wavFile(pcm: Buffer, sampleRate = pcmSampleRate): Buffer {
  // A stray odd byte is half a sample; RIFF would also need it padded, so it is dropped instead.
  const data = pcm.subarray(0, pcm.length - (pcm.length % bytesPerSample));
  const header = Buffer.alloc(headerBytes);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(headerBytes - 8 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // size of the fmt chunk for plain PCM
  header.writeUInt16LE(1, 20); // format 1: integer PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * bytesPerSample, 28); // bytes per second
  header.writeUInt16LE(channels * bytesPerSample, 32); // bytes per frame
  header.writeUInt16LE(bytesPerSample * 8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
