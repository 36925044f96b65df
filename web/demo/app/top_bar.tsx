// The top bar: the library's status badge (<RealtimeStatus />: "Live", "Reconnecting…", with a details
// popover), who is signed in, and Sign out.
import { RealtimeStatus } from 'tidewire/react';

export function TopBar({ name, onSignOut }: { name: string; onSignOut: () => void }) {
  return (
    <header className="top">
      <h1>
        tidewire <span className="sub">demo</span>
      </h1>
      <div className="top__right">
        <RealtimeStatus />
        <span className="who">
          Signed in as <strong id="me">{name}</strong>
        </span>
        <button type="button" className="tw-button" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
