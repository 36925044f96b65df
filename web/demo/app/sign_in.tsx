// The sign-in panel (signed out): a name, checked by asking the development server for a token. The token
// itself is fetched again by the provider's token function before every connect (main.tsx).
import { useState, type FormEvent } from 'react';

import { NAME_KEY, NAME_PATTERN, fetchToken, type Session } from './session';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [name, setName] = useState(() => sessionStorage.getItem(NAME_KEY) ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!NAME_PATTERN.test(trimmed)) {
      setError('Use 1 to 64 letters, digits, _ . or -');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { userId } = await fetchToken(trimmed); // checks the endpoint and learns the user id
      sessionStorage.setItem(NAME_KEY, trimmed);
      onSignedIn({ name: trimmed, userId });
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <main className="signin-page">
      <form id="signin" className="card signin" onSubmit={submit} autoComplete="off" aria-labelledby="signin-title">
        <h1 id="signin-title">tidewire demo</h1>
        <p className="hint">
          Pick any name: this development server signs a token for it. Open a second window with another name to see
          each other live.
        </p>
        <label htmlFor="name">Your name</label>
        <div className="row">
          <input
            id="name"
            type="text"
            required
            maxLength={64}
            placeholder="alice"
            autoFocus
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <button type="submit" className="tw-button tw-button--primary" disabled={busy}>
            Sign in
          </button>
        </div>
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}
