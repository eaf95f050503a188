/** fetch with the signed-in person's token, and the APIs' error shape turned into an ApiError. */

const tokenKey = 'parley.token';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function savedToken(): string | null {
  return localStorage.getItem(tokenKey);
}

export function saveToken(token: string | null): void {
  if (token === null || token === '') localStorage.removeItem(tokenKey);
  else localStorage.setItem(tokenKey, token);
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = savedToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** A request that answered 2xx; anything else throws an ApiError with the server's own message. */
export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: authHeaders(init.headers as Record<string, string> | undefined) });
  } catch {
    throw new ApiError('The server could not be reached.', 0);
  }
  if (response.ok) return response;
  let message = `The server answered ${response.status}`;
  let code: string | undefined;
  try {
    const body = (await response.json()) as { error?: { message?: string; code?: string } | string; message?: string };
    if (typeof body.error === 'object' && body.error?.message) {
      message = body.error.message;
      code = body.error.code;
    } else if (typeof body.message === 'string') {
      message = body.message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  throw new ApiError(message, response.status, code);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call(path)).json()) as T;
}

export function sendJson(path: string, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : 'The server could not be reached.';
}
