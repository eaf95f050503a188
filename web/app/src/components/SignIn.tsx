import { useState } from 'preact/hooks';
import { authenticate } from '../api/other-apis';
import { errorText, saveToken } from '../api/http';

/**
 * Shown when the server needs a sign-in: its built-in accounts
 * (/api/v1/auth/signin and /signup), or a token from elsewhere pasted in.
 */
export function SignIn({ onSignedIn }: { onSignedIn(): void }) {
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      saveToken((await authenticate(mode, email, password)).token);
      onSignedIn();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };
  const useToken = (event: Event) => {
    event.preventDefault();
    saveToken(token.trim());
    onSignedIn();
  };

  return (
    <main class="sign-in">
      <h1>AI Assistant</h1>
      <p>This server needs a sign-in.</p>
      <form class="card" onSubmit={submit} aria-label={mode === 'signin' ? 'Sign in' : 'Create an account'}>
        <h2>{mode === 'signin' ? 'Sign in' : 'Create an account'}</h2>
        <label for="email">Email</label>
        <input
          id="email"
          type="email"
          autocomplete="email"
          required
          value={email}
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          type="password"
          autocomplete={mode === 'signin' ? 'current-password' : 'new-password'}
          required
          minLength={8}
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {mode === 'signin' ? 'Sign in' : 'Sign up'}
        </button>
        <button type="button" class="link" onClick={() => setMode(mode === 'signin' ? 'signup' : 'signin')}>
          {mode === 'signin' ? 'No account yet? Sign up' : 'Have an account? Sign in'}
        </button>
      </form>
      <details class="card" id="token-settings">
        <summary>Sign-in token</summary>
        <form onSubmit={useToken}>
          <label for="token-input">Bearer token (JWT) for servers that require one</label>
          <input
            id="token-input"
            type="password"
            autocomplete="off"
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
          />
          <button type="submit">Save</button>
        </form>
      </details>
    </main>
  );
}
