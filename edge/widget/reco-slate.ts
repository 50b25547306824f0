/**
 * <reco-slate surface="home" k="8" [user="u1" user-token="v1.…"] [item="i123"] [endpoint="https://edge.example"]>
 * A recommendation widget a site embeds with one script tag. It renders image, title, price and reason per
 * item; remembers the visitor's recent views (localStorage) and sends them with each request; reports
 * impressions and clicks; works with the keyboard (each card is a link) and gives every image alt text.
 * `item` marks the product the current page shows (recorded as a view). `user` is honoured by the edge only
 * with `user-token`, a short-lived token the site's backend signs (docs/security.md); it travels in the
 * X-User-Token header (in the body of event beacons), never in the URL. Events go to an outbox in localStorage first and leave it only when
 * the edge acknowledged them (202), so a batch refused (503) or cut off by navigation is sent again later.
 */
const RECENT_KEY = 'reco:recent';
const SESSION_KEY = 'reco:session';
const OUTBOX_KEY = 'reco:outbox';
const MAX_RECENT = 10;
/** Batches kept for a later try at most (oldest dropped first): bounded storage on a broken network. */
const MAX_OUTBOX = 30;

interface Item {
  id: string;
  title?: string;
  price?: number;
  image?: string;
  reason: string;
}
interface Answer {
  items: Item[];
  slateVersion: string | null;
  modelVersion: string;
  variant: string | null;
}

function readList(key: string): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function sessionId(): string {
  let id = sessionStorage.getItem(SESSION_KEY);
  if (!id) {
    id = `s-${crypto.randomUUID()}`;
    sessionStorage.setItem(SESSION_KEY, id);
  }
  return id;
}

interface OutboxEntry {
  id: string;
  body: string;
}

function readOutbox(): OutboxEntry[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(OUTBOX_KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is OutboxEntry => typeof v?.id === 'string' && typeof v?.body === 'string') : [];
  } catch {
    return [];
  }
}

function writeOutbox(entries: OutboxEntry[]): void {
  try {
    localStorage.setItem(OUTBOX_KEY, JSON.stringify(entries.slice(-MAX_OUTBOX)));
  } catch {
    // storage full or disabled: the batch is still sent once below
  }
}

/**
 * An outbox batch re-sent from a later page carries the token of the page that made it, which may have expired
 * meanwhile: when this page is signed in as the same user, its fresh token goes in instead (the edge would
 * otherwise store those events without the user).
 */
function withCurrentToken(entry: OutboxEntry, user: string | null, token: string | null): OutboxEntry {
  if (!user || !token) return entry;
  try {
    const body = JSON.parse(entry.body) as { userToken?: string; events?: { userId?: string }[] };
    if (body.userToken === undefined || body.userToken === token || !body.events?.every((e) => e.userId === undefined || e.userId === user)) return entry;
    return { id: entry.id, body: JSON.stringify({ ...body, userToken: token }) };
  } catch {
    return entry;
  }
}

/** Posts a batch; it leaves the outbox only on 202 (acknowledged = durable at the edge). */
function send(endpoint: string, entry: OutboxEntry): void {
  void fetch(`${endpoint}/v1/events`, { method: 'POST', body: entry.body, headers: { 'content-type': 'text/plain' }, keepalive: true })
    .then((response) => {
      // 4xx other than 408/429: the batch will never be accepted; keeping it would resend it forever.
      const final = response.status === 202 || (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429);
      if (final) writeOutbox(readOutbox().filter((e) => e.id !== entry.id));
    })
    .catch(() => undefined);
}

/**
 * A card's link: the site's `href-template` with the item id, when it is an http(s) or relative URL; anything
 * else (`javascript:`, `data:`, …: script run on click) is refused with a console warning and `#<id>` used.
 */
function itemHref(template: string | null, id: string): string {
  if (template === null) return `#${id}`;
  const href = template.replace('{id}', encodeURIComponent(id));
  try {
    const protocol = new URL(href, location.href).protocol;
    if (protocol === 'http:' || protocol === 'https:') return href;
  } catch {
    // not a URL at all
  }
  console.warn('reco-slate: href-template must be an http(s) or relative URL; ignored');
  return `#${id}`;
}

function rememberView(itemId: string): void {
  const recent = readList(RECENT_KEY).filter((id) => id !== itemId);
  recent.push(itemId);
  localStorage.setItem(RECENT_KEY, JSON.stringify(recent.slice(-MAX_RECENT)));
}

const STYLE = `
:host{display:block;font-family:system-ui,sans-serif;color:#1d1d1f}
h2{font-size:1.1rem;margin:0 0 .6rem}
ol{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.8rem}
a{display:block;text-decoration:none;color:inherit;border:1px solid #ddd;border-radius:10px;padding:.5rem;height:100%;box-sizing:border-box}
a:hover,a:focus-visible{border-color:#0a66c2;outline:2px solid #0a66c2;outline-offset:1px}
img{width:100%;aspect-ratio:1;object-fit:cover;border-radius:6px;background:#f2f2f2}
.t{font-size:.9rem;margin:.35rem 0 .2rem;line-height:1.2}
.p{font-weight:600}
.r{font-size:.75rem;color:#555;margin-top:.25rem}
.e{font-size:.85rem;color:#666}`;

class RecoSlate extends HTMLElement {
  private readonly root = this.attachShadow({ mode: 'open' });

  connectedCallback(): void {
    // Batches not acknowledged on an earlier page (503, network, navigation) go again; event ids make it safe.
    for (const entry of readOutbox()) send(this.endpoint, withCurrentToken(entry, this.getAttribute('user'), this.getAttribute('user-token')));
    const item = this.getAttribute('item');
    if (item) {
      rememberView(item);
      this.beacon([{ type: 'view', itemId: item }]);
    }
    void this.load();
  }

  private get endpoint(): string {
    const script = document.querySelector<HTMLScriptElement>('script[src*="widget.js"]');
    return this.getAttribute('endpoint') ?? (script ? new URL(script.src).origin : location.origin);
  }

  private async load(): Promise<void> {
    const params = new URLSearchParams({ surface: this.getAttribute('surface') ?? 'home', k: this.getAttribute('k') ?? '8', session: sessionId() });
    const user = this.getAttribute('user');
    if (user) params.set('user', user);
    const recent = readList(RECENT_KEY);
    if (recent.length) params.set('recent', recent.join(','));
    const token = this.getAttribute('user-token');
    try {
      const response = await fetch(`${this.endpoint}/v1/recommendations?${params}`, token && user ? { headers: { 'x-user-token': token } } : {});
      if (!response.ok) throw new Error(String(response.status));
      this.render((await response.json()) as Answer);
    } catch {
      this.root.innerHTML = `<style>${STYLE}</style><p class="e">Recommendations are unavailable right now.</p>`;
    }
  }

  private render(answer: Answer): void {
    const heading = this.getAttribute('heading') ?? 'Recommended for you';
    const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: this.getAttribute('currency') ?? 'EUR' });
    const list = document.createElement('ol');
    answer.items.forEach((item, position) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = itemHref(this.getAttribute('href-template'), item.id);
      a.dataset.itemId = item.id;
      const img = document.createElement('img');
      img.src = item.image ? new URL(item.image, this.endpoint).href : '';
      img.alt = item.title ?? item.id;
      img.loading = 'lazy';
      const title = Object.assign(document.createElement('div'), { className: 't', textContent: item.title ?? item.id });
      const price = Object.assign(document.createElement('div'), { className: 'p', textContent: item.price !== undefined ? money.format(item.price) : '' });
      const reason = Object.assign(document.createElement('div'), { className: 'r', textContent: item.reason });
      a.append(img, title, price, reason);
      a.addEventListener('click', () => {
        rememberView(item.id);
        this.beacon([{ type: 'click', itemId: item.id, position }], answer);
      });
      li.append(a);
      list.append(li);
    });
    this.root.innerHTML = `<style>${STYLE}</style><h2></h2>`;
    this.root.querySelector('h2')!.textContent = heading;
    this.root.append(list);
    this.setAttribute('aria-busy', 'false');
    this.beacon(answer.items.map((item, position) => ({ type: 'impression', itemId: item.id, position })), answer);
  }

  private beacon(events: { type: string; itemId: string; position?: number }[], answer?: Answer): void {
    if (events.length === 0) return;
    const user = this.getAttribute('user') ?? undefined;
    const token = this.getAttribute('user-token');
    const payload = {
      // The edge keeps userId on these events only with this proof (a text/plain post carries no header).
      ...(user && token ? { userToken: token } : {}),
      events: events.map((e) => ({
        eventId: crypto.randomUUID(),
        ...e,
        sessionId: sessionId(),
        ...(user ? { userId: user } : {}),
        ts: Date.now(),
        surface: this.getAttribute('surface') ?? 'home',
        ...(answer ? { slateVersion: answer.slateVersion, modelVersion: answer.modelVersion, variant: answer.variant } : {}),
      })),
    };
    const entry: OutboxEntry = { id: crypto.randomUUID(), body: JSON.stringify(payload) };
    writeOutbox([...readOutbox(), entry]);
    send(this.endpoint, entry);
  }
}

if (!customElements.get('reco-slate')) customElements.define('reco-slate', RecoSlate);
