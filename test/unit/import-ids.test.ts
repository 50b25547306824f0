// The import rows' ids follow the same rule as the URL routes: an imported user "." could never be erased by
// DELETE /v1/users/:id (the path normalises to /v1/users/), nor an item ".." retired by DELETE /v1/items/:id.
import { describe, expect, it } from 'vitest';
import { EventRowSchema, ItemRowSchema, UserRowSchema } from '../../shared/contracts/import.ts';
import { ItemChangesSchema } from '../../shared/contracts/item-changes.ts';

const event = { userId: 'u1', itemId: 'i1', type: 'view', ts: Date.UTC(2024, 0, 1) };

describe('import ids', () => {
  it.each(['.', '..'])('refuses %j as a user, item or catalogue id, with the reason', (id) => {
    for (const result of [
      UserRowSchema.safeParse({ id }),
      ItemRowSchema.safeParse({ id, title: 'T' }),
      EventRowSchema.safeParse({ ...event, userId: id }),
      EventRowSchema.safeParse({ ...event, itemId: id }),
      ItemChangesSchema.safeParse({ f: 1, items: { [id]: { st: 0, at: 1 } } }),
    ]) {
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain('reserved');
    }
  });

  it('still accepts ids with dots, colons and at-signs', () => {
    for (const id of ['...', '.a', 'a.b', 'sku:1', 'me@shop', 'x-1_2']) {
      expect(UserRowSchema.safeParse({ id }).success, id).toBe(true);
      expect(ItemRowSchema.safeParse({ id, title: 'T' }).success, id).toBe(true);
      expect(EventRowSchema.safeParse({ ...event, userId: id, itemId: id }).success, id).toBe(true);
    }
  });
});
