// An error said in words, with a Dismiss button: the tasks and chat panels' notices (tests find them as
// `#tasks [role="alert"]`, `#chat [role="alert"]`).

/** Renders nothing for `null`; otherwise stays until dismissed or replaced. */
export function ErrorNotice({ message, onDismiss }: { message: string | null; onDismiss: () => void }) {
  if (message === null) return null;
  return (
    <div className="error notice" role="alert">
      <span>{message}</span>
      <button type="button" className="tw-button small" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
