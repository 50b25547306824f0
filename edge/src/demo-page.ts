/**
 * The demo shop page served at /demo: a product page with the widget embedded by one script tag. It plays the
 * shop's page template: the shop's backend would render `user` and a `user-token` it signed; here both come
 * from the URL, which `npm start` prints with a token it minted (the edge never mints tokens itself).
 * Without a valid token the widget is answered as an anonymous visitor.
 */
export function demoPage(query: URLSearchParams): string {
  const user = query.get('user') ?? '';
  const token = query.get('token') ?? '';
  const item = query.get('item') ?? '';
  const esc = (s: string): string => s.replace(/[^\w.:@-]/g, '');
  const signedIn = user !== '' && token !== '';
  const keep = `${user ? `user=${esc(user)}&` : ''}${token ? `token=${esc(token)}&` : ''}`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Demo shop — edge-reco</title>
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:1.5rem auto;padding:0 1rem;color:#1d1d1f}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #eee;margin-bottom:1rem}
form{display:flex;gap:.5rem;align-items:center;font-size:.9rem}</style></head>
<body>
<header><h1>Demo shop</h1>
<form method="get" action="/demo">${user ? `<input type="hidden" name="user" value="${esc(user)}">` : ''}${token ? `<input type="hidden" name="token" value="${esc(token)}">` : ''}
<label>Viewing item <input name="item" value="${esc(item)}" size="8" placeholder="e.g. i42"></label><button>Go</button></form></header>
<p>${signedIn ? `Signed in as <b>${esc(user)}</b> (a user token signed by the shop's backend — here the demo launcher).` : 'Anonymous visitor: popular picks, reranked by what you view in this browser.'}
This page embeds the widget with one tag: <code>&lt;script src="/widget.js" defer&gt;&lt;/script&gt;</code> and
<code>&lt;reco-slate surface="home" k="8" user="…" user-token="…"&gt;</code>. Clicking an item records it as a recent view and reranks the next answer.</p>
<reco-slate surface="home" k="8" ${user ? `user="${esc(user)}"` : ''} ${token ? `user-token="${esc(token)}"` : ''} ${item ? `item="${esc(item)}"` : ''} href-template="/demo?${keep}item={id}"></reco-slate>
<script src="/widget.js" defer></script>
</body></html>`;
}

const PALETTE = ['#8dd3c7', '#ffffb3', '#bebada', '#fb8072', '#80b1d3', '#fdb462', '#b3de69', '#fccde5', '#d9d9d9', '#bc80bd', '#ccebc5', '#ffed6f'];

/** A placeholder product image, coloured from the item id (no external image hosting needed for the demo). */
export function placeholderImage(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  const colour = PALETTE[hash % PALETTE.length] ?? '#ddd';
  const label = id.replace(/[^\w-]/g, '').slice(0, 12);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200"><rect width="200" height="200" fill="${colour}"/><text x="100" y="108" font-family="sans-serif" font-size="28" text-anchor="middle" fill="#333">${label}</text></svg>`;
}
