import { useEffect, useId, useRef, type ReactNode } from 'react';

/** A modal question (the native <dialog>): the action runs only on an explicit yes. */
export function Confirm({
  open,
  title,
  children,
  yes,
  onYes,
  onNo,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  yes: string;
  onYes: () => void;
  onNo: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onNo} className="confirm">
      <h2 id={titleId}>{title}</h2>
      <div>{children}</div>
      <div className="row end">
        <button type="button" onClick={onNo}>
          Keep it
        </button>
        <button type="button" className="danger" onClick={onYes}>
          {yes}
        </button>
      </div>
    </dialog>
  );
}

/** A dialog that shows details (closed by Esc or its Close button). */
export function Details({
  title,
  onClose,
  children,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose} className="details">
      <div className="row between">
        <h2 id={titleId}>{title}</h2>
        <button type="button" onClick={() => ref.current?.close()}>
          Close
        </button>
      </div>
      {children}
    </dialog>
  );
}
