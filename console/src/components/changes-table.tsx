import { formatValue, redactChange } from '../audit-format.ts';
import type { AttributeChange } from '../types.ts';

/** Attributes changed, old and new value side by side; a secret attribute's values never show. */
export const ChangesTable = ({ changes, empty }: { changes: AttributeChange[] | undefined; empty: string }) =>
  changes && changes.length > 0 ? (
    <table class="changes">
      <thead>
        <tr>
          <th scope="col">Attribute</th>
          <th scope="col">Old</th>
          <th scope="col">New</th>
        </tr>
      </thead>
      <tbody>
        {changes.map(redactChange).map((change) => (
          <tr key={change.attribute}>
            <th scope="row">
              <code>{change.attribute}</code>
            </th>
            <td class={change.old === undefined ? 'none' : 'old'}>{formatValue(change.old)}</td>
            <td class="new">{formatValue(change.new)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  ) : (
    <p class="muted">{empty}</p>
  );
