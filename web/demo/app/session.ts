// Who is signed in, and where the development server signs tokens: what the sign-in form and the
// provider's token function share. The server must run with --dev-tokens (scripts/start.sh does).

/** The signed-in user: the name typed, and the user id the server's token carries (the same, for dev tokens). */
export interface Session {
  name: string;
  userId: string;
}

/** The last name signed in with, offered again by the form (per tab). */
export const NAME_KEY = 'tidewire-demo:name';

/** What the development token endpoint accepts as a name. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The server's WebSocket endpoint, on the host that served the page. */
export function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

/** GET /dev/token?user=NAME → {token, userId, expiresAt}; throws an Error fit to show. */
export async function fetchToken(name: string): Promise<{ token: string; userId: string; expiresAt: number }> {
  let response: Response;
  try {
    response = await fetch(`/dev/token?user=${encodeURIComponent(name)}`, { cache: 'no-store' });
  } catch (e) {
    throw new Error(`could not reach the server (${(e as Error).message})`);
  }
  if (response.status === 404) throw new Error('this server does not sign development tokens (start it with --dev-tokens)');
  if (!response.ok) throw new Error(`the server refused (${response.status} ${await response.text().catch(() => '')})`);
  return (await response.json()) as { token: string; userId: string; expiresAt: number };
}
