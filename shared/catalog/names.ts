/** Word lists that make the generated catalogue read like a shop. Pure data, no logic. */
export const CATEGORY_NAMES = [
  'Smartphones', 'Laptops', 'Headphones', 'Cameras', 'Gaming', 'Smart Home',
  'Kitchen', 'Furniture', 'Bedding', 'Lighting', 'Garden', 'Tools',
  "Men's Fashion", "Women's Fashion", 'Shoes', 'Accessories', 'Beauty', 'Fitness',
  'Outdoor', 'Cycling', 'Books', 'Toys', 'Baby', 'Pet Supplies',
] as const;

/** The noun used in item titles, one per category above. */
export const CATEGORY_NOUNS = [
  'Phone', 'Notebook', 'Earbuds', 'Camera', 'Controller', 'Smart Plug',
  'Blender', 'Armchair', 'Duvet', 'Desk Lamp', 'Hose Reel', 'Drill',
  'Jacket', 'Dress', 'Sneakers', 'Backpack', 'Serum', 'Yoga Mat',
  'Tent', 'Bike Light', 'Novel', 'Puzzle', 'Stroller', 'Cat Tree',
] as const;

/** Typical price per category (currency units); items vary log-normally around it. */
export const CATEGORY_BASE_PRICE = [
  499, 899, 79, 549, 59, 29, 69, 349, 89, 45, 39, 119,
  89, 69, 95, 49, 25, 35, 179, 29, 15, 22, 299, 79,
] as const;

export const SEGMENT_NAMES = [
  'tech-lovers', 'home-nesters', 'fashion-fans', 'active-outdoors',
  'bookworms', 'family-shoppers', 'gamers', 'bargain-hunters',
] as const;

export const ADJECTIVES = [
  'Classic', 'Pro', 'Lite', 'Ultra', 'Eco', 'Compact', 'Max', 'Smart', 'Air', 'Prime',
  'Urban', 'Nova', 'Pure', 'Flex', 'Studio', 'Trail', 'Essential', 'Signature',
] as const;

const SYLLABLES = ['ka', 'zen', 'lo', 'vi', 'tra', 'mo', 'rix', 'sol', 'ne', 'qua', 'dor', 'fi', 'bel', 'ta', 'ro', 'xa'];

/** A pronounceable brand name for brand number n (deterministic). */
export function brandName(n: number): string {
  const a = SYLLABLES[n % SYLLABLES.length] ?? 'ka';
  const b = SYLLABLES[Math.floor(n / SYLLABLES.length) % SYLLABLES.length] ?? 'lo';
  const c = SYLLABLES[Math.floor(n / 256) % SYLLABLES.length] ?? '';
  const word = n < 256 ? a + b : a + b + c;
  return word.charAt(0).toUpperCase() + word.slice(1);
}
