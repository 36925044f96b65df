// "Shared tasks": the collection `task` on channel `tasks` (useRealtimeSync): optimistic, pending until the
// server stores a change. A change the server refuses is rolled back by the library and said here in words,
// naming the task, until dismissed; one the stored task already satisfies (two users ticked the same box)
// resolves quietly and is no error.
//
// Test hooks: #tasks[data-count], li.task[data-task-id][data-title][data-done][data-pending].
import { useState, type FormEvent } from 'react';
import { useRealtimeSync } from 'tidewire/react';

import { ErrorNotice } from './error_notice';

interface Task extends Record<string, unknown> {
  title: string;
  done: boolean;
}

export function TasksPanel() {
  const { data: tasks, insert, update, remove } = useRealtimeSync<Task>({ channel: 'tasks', resource: 'task' });
  const [title, setTitle] = useState('');
  // What went wrong with this user's own last action (the hook's `error` says the same without the task's title).
  const [error, setError] = useState<string | null>(null);
  const fail = (what: string) => (e: Error) => setError(`${what}: ${e.message}`);

  const add = (e: FormEvent) => {
    e.preventDefault();
    const t = title.trim();
    if (t === '') return;
    setTitle('');
    setError(null);
    insert({ title: t, done: false }).catch(fail(`Could not add "${t}"`));
  };
  const open = tasks.filter((t) => !t.done).length;

  return (
    <section id="tasks" className="card" aria-labelledby="tasks-title" data-count={tasks.length}>
      <div className="card-head">
        <h2 id="tasks-title">Shared tasks</h2>
        <span className="count" aria-label={`${open} open`}>
          {open} open
        </span>
      </div>
      <form className="row" onSubmit={add} autoComplete="off">
        <label htmlFor="new-task" className="visually-hidden">
          New task
        </label>
        <input
          id="new-task"
          type="text"
          maxLength={200}
          placeholder="Add a task"
          value={title}
          onChange={(e) => setTitle(e.currentTarget.value)}
        />
        <button type="submit" className="tw-button" disabled={title.trim() === ''}>
          Add task
        </button>
      </form>
      <ErrorNotice message={error} onDismiss={() => setError(null)} />
      {tasks.length === 0 ? (
        <p className="empty">No tasks. Everyone signed in shares this list.</p>
      ) : (
        <ul className="tasks" aria-label="Tasks" aria-live="polite">
          {tasks.map((t) => (
            <li
              key={t.id}
              className={`task${t.done ? ' task--done' : ''}${t.pending ? ' task--pending' : ''}`}
              data-task-id={t.id}
              data-title={t.title}
              data-done={String(Boolean(t.done))}
              data-pending={String(Boolean(t.pending))}
            >
              <label>
                <input
                  type="checkbox"
                  checked={Boolean(t.done)}
                  disabled={t.pending}
                  onChange={() => update(t.id, { done: !t.done }).catch(fail(`Could not update "${t.title}"`))}
                />
                <span className="task__title">{t.title}</span>
              </label>
              {t.pending ? <span className="task__pending">saving…</span> : null}
              <button
                type="button"
                className="tw-button small"
                aria-label={`Delete ${t.title}`}
                disabled={t.pending}
                onClick={() => remove(t.id).catch(fail(`Could not delete "${t.title}"`))}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
