// Reads the app's IndexedDB directly from the page, to check what is stored.

export function idbCount(page, store) {
  return page.evaluate(
    (store) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('echoloop');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          // A missing store throws here; reject instead of never settling.
          let c;
          try {
            c = db.transaction(store).objectStore(store).count();
          } catch (e) {
            db.close();
            return reject(e);
          }
          c.onsuccess = () => {
            resolve(c.result);
            db.close();
          };
          c.onerror = () => reject(c.error);
        };
      }),
    store,
  );
}

/** All rows of a store, blobs replaced by {size, type}. */
export function idbAll(page, store) {
  return page.evaluate(
    (store) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('echoloop');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          let all;
          try {
            all = db.transaction(store).objectStore(store).getAll();
          } catch (e) {
            db.close();
            return reject(e);
          }
          all.onsuccess = () => {
            resolve(
              all.result.map((row) =>
                Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Blob ? { size: v.size, type: v.type } : v])),
              ),
            );
            db.close();
          };
          all.onerror = () => reject(all.error);
        };
      }),
    store,
  );
}

/** Every material's segments, from their list rows (schema v7: one row per material). */
export async function idbSegments(page) {
  return (await idbAll(page, 'segmentLists')).flatMap((list) => list.segments);
}
