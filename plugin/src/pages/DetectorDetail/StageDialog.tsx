import React, { useState } from 'react';
import { Button, Field, Input, Modal } from '@grafana/ui';

interface Props {
  title: string;
  description: string;
  confirm: string;
  onConfirm: (reason: string) => Promise<void>;
  onDismiss: () => void;
}

/** A confirmation that asks why: every stage change is kept in the history with its reason. */
export function StageDialog({ title, description, confirm, onConfirm, onDismiss }: Props) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    try {
      await onConfirm(reason.trim());
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={title} isOpen onDismiss={onDismiss}>
      <p>{description}</p>
      <Field label="Reason" description="Kept in the stage history">
        <Input
          id="stage-reason"
          autoFocus
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          placeholder="e.g. fewer false alarms after the deploy"
        />
      </Field>
      <Modal.ButtonRow>
        <Button variant="secondary" fill="outline" onClick={onDismiss}>
          Cancel
        </Button>
        <Button variant="destructive" disabled={!reason.trim() || busy} onClick={submit}>
          {confirm}
        </Button>
      </Modal.ButtonRow>
    </Modal>
  );
}
