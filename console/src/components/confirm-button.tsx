import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';

/**
 * A button whose action waits for a confirmation in a modal dialog (the browser's own
 * `<dialog>`: it traps focus, Escape cancels, focus returns to the button afterwards).
 */
export const ConfirmButton = ({
  label,
  question,
  confirm,
  onConfirm,
  disabled,
  danger,
}: {
  label: string;
  question: ComponentChildren;
  confirm: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
}) => {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" class={danger ? 'danger' : undefined} disabled={disabled} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={label}>
        <form method="dialog">
          <p>{question}</p>
          <div class="actions">
            <button type="submit" value="cancel" class="secondary">
              Cancel
            </button>
            <button
              type="submit"
              value="confirm"
              class={danger ? 'danger' : undefined}
              onClick={() => {
                // The dialog closes itself (method="dialog"); the action runs after it.
                queueMicrotask(onConfirm);
              }}
            >
              {confirm}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
};
