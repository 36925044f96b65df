// The chat panel's "New room" form. The name is given back to the input when the room could not be created.
import { useState, type FormEvent } from 'react';

/** `onCreate` resolves to whether the room was created. */
export function NewRoomForm({ onCreate }: { onCreate: (name: string) => Promise<boolean> }) {
  const [name, setName] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') return;
    setName('');
    void onCreate(trimmed).then((created) => {
      if (!created) setName(trimmed);
    });
  };
  return (
    <form className="tw-composer new-room" onSubmit={submit} autoComplete="off">
      <input
        type="text"
        value={name}
        maxLength={100}
        placeholder="New room"
        aria-label="New room name"
        onChange={(e) => setName(e.currentTarget.value)}
      />
      <button type="submit" className="tw-button" disabled={name.trim() === ''}>
        Create
      </button>
    </form>
  );
}
