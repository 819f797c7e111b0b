// Reads the app's IndexedDB directly from the page, to check what is stored.

export function idbCount(page, store) {
  return page.evaluate(
    (store) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('echoloop');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const c = db.transaction(store).objectStore(store).count();
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
          const all = db.transaction(store).objectStore(store).getAll();
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
