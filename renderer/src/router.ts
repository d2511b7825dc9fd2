/**
 * A small hash router (vue-router is not a dependency): routes are parsed from location.hash by a pure function
 * (unit-tested), and `useRoute()` gives the current one reactively.
 */
import { shallowRef } from 'vue'

export type Route =
  | { name: 'experiments' }
  | { name: 'experiment'; id: number; tab: string }
  | { name: 'new'; experimentId: number | null; fromRun: number | null }
  | { name: 'compare'; demo: boolean }
  | { name: 'run'; id: number }
  | { name: 'datasets' }
  | { name: 'settings' }
  | { name: 'not-found'; path: string }

const posInt = (s: string | undefined) => (s && /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : null)

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '')
  const [pathPart, query = ''] = raw.split('?')
  const q = new URLSearchParams(query)
  const parts = (pathPart ?? '').split('/').filter(Boolean)
  if (parts.length === 0 || (parts[0] === 'experiments' && parts.length === 1)) return { name: 'experiments' }
  if (parts[0] === 'new' && parts.length === 1) return { name: 'new', experimentId: posInt(q.get('experiment') ?? undefined), fromRun: posInt(q.get('from') ?? undefined) }
  if (parts[0] === 'compare' && parts.length === 1) return { name: 'compare', demo: q.get('demo') === '1' }
  if (parts[0] === 'experiments') {
    const id = posInt(parts[1])
    if (id && parts.length <= 3) return { name: 'experiment', id, tab: parts[2] ?? 'runs' }
  }
  if (parts[0] === 'runs' && parts.length === 2) {
    const id = posInt(parts[1])
    if (id) return { name: 'run', id }
  }
  if (parts[0] === 'datasets' && parts.length === 1) return { name: 'datasets' }
  if (parts[0] === 'settings' && parts.length === 1) return { name: 'settings' }
  return { name: 'not-found', path: raw }
}

export const href = {
  experiments: () => '#/experiments',
  experiment: (id: number, tab?: string) => `#/experiments/${id}${tab && tab !== 'runs' ? `/${tab}` : ''}`,
  newExperiment: () => '#/new',
  compare: (demo = false) => (demo ? '#/compare?demo=1' : '#/compare'),
  newRuns: (experimentId: number) => `#/new?experiment=${experimentId}`,
  cloneRun: (runId: number) => `#/new?from=${runId}`,
  run: (id: number) => `#/runs/${id}`,
  datasets: () => '#/datasets',
  settings: () => '#/settings',
}

const current = shallowRef<Route>(parseRoute(typeof location === 'undefined' ? '' : location.hash))
if (typeof window !== 'undefined') window.addEventListener('hashchange', () => (current.value = parseRoute(location.hash)))

export function useRoute() {
  return current
}

export function navigate(to: string): void {
  if (location.hash === to) current.value = parseRoute(to)
  else location.hash = to
}
