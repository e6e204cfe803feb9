import { api } from '../api';
import { h } from '../dom';
import type { Delivery } from '../types';
import { actionButton, type Column, dash, flash, statusBadge, table, when } from '../ui';

/** Requeue and discard for a delivery that is not delivered yet; `done` re-renders. */
export function deliveryActions(d: Delivery, done: () => void) {
  if (d.status !== 'dead' && d.status !== 'pending') return dash();
  return h(
    'span',
    { class: 'row-actions' },
    actionButton(
      'Requeue',
      async () => {
        await api('POST', `outbox/${encodeURIComponent(String(d.id))}/requeue`);
        flash(`Delivery ${d.id} requeued: it is sent again now.`);
        done();
      },
      { 'aria-label': `Requeue delivery ${d.id}` },
    ),
    actionButton(
      'Discard',
      async () => {
        if (!window.confirm(`Discard delivery ${d.id} to ${d.target}? It will never be sent.`))
          return;
        await api('POST', `outbox/${encodeURIComponent(String(d.id))}/discard`);
        flash(`Delivery ${d.id} discarded.`);
        done();
      },
      { class: 'btn btn-danger', 'aria-label': `Discard delivery ${d.id}` },
    ),
  );
}

export function deliveryColumns(done: () => void): Column<Delivery>[] {
  return [
    { label: 'Target', cell: (d) => h('code', {}, d.target) },
    { label: 'Status', cell: (d) => statusBadge(d.status) },
    {
      label: 'Attempts',
      cell: (d) => (d.maxAttempts === undefined ? d.attempts : `${d.attempts} / ${d.maxAttempts}`),
      className: 'num',
    },
    {
      label: 'Last error',
      cell: (d) => (d.lastError ? h('span', { class: 'error-text' }, d.lastError) : dash()),
    },
    {
      label: 'Next attempt',
      cell: (d) => (d.status === 'pending' ? when(d.nextAttemptAt) : dash()),
    },
    { label: 'Delivered', cell: (d) => when(d.deliveredAt) },
    { label: '', cell: (d) => deliveryActions(d, done) },
  ];
}

export function deliveriesTable(deliveries: Delivery[], done: () => void): HTMLElement {
  return table(deliveryColumns(done), deliveries, 'No forward targets: nothing to deliver.');
}
