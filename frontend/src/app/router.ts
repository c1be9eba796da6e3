/**
 * Routes of the app. Tokens live in memory only, so after a reload a tab that was signed in goes
 * back through /o/authorize (silent while the server session lasts), as does any page that needs
 * an account.
 */
import type { Pinia } from 'pinia'
import { createRouter, createWebHistory, type Router, type RouterHistory } from 'vue-router'

import { wasSignedIn } from '@/features/auth/pending'
import { useAuthStore } from '@/features/auth/store'
import { browser } from '@/shared/browser'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the document title. */
    title?: string
    requiresAuth?: boolean
    /** The OAuth callback completes sign-in itself and must never start one. */
    signInFlow?: boolean
  }
}

export const routes = [
  { path: '/', name: 'home', component: () => import('@/pages/HomePage.vue'), meta: { title: 'nav.home' } },
  {
    path: '/signin',
    name: 'signin',
    component: () => import('@/pages/SignInPage.vue'),
    meta: { title: 'signin.title' },
  },
  {
    path: '/auth/callback',
    name: 'auth-callback',
    component: () => import('@/pages/AuthCallbackPage.vue'),
    meta: { title: 'callback.title', signInFlow: true },
  },
  {
    path: '/register',
    name: 'register',
    component: () => import('@/pages/RegisterPage.vue'),
    meta: { title: 'register.title' },
  },
  {
    path: '/profile',
    name: 'profile',
    component: () => import('@/pages/ProfilePage.vue'),
    meta: { title: 'profile.title', requiresAuth: true },
  },
  {
    path: '/record',
    name: 'record',
    component: () => import('@/pages/RecordPage.vue'),
    meta: { title: 'record.title', requiresAuth: true },
  },
  {
    path: '/patients',
    name: 'patients',
    component: () => import('@/pages/PatientsPage.vue'),
    meta: { title: 'patients.title', requiresAuth: true },
  },
  {
    path: '/patients/:id',
    name: 'patient-chart',
    component: () => import('@/pages/PatientChartPage.vue'),
    meta: { title: 'patients.chart', requiresAuth: true },
  },
  {
    path: '/symptom-check',
    name: 'symptom-check',
    component: () => import('@/pages/SymptomCheckPage.vue'),
    meta: { title: 'diagnosis.symptoms.title', requiresAuth: true },
  },
  {
    // Not under /admin/: the server sends /admin/* to the Django admin site, so a reload there
    // would never reach the app.
    path: '/model-registry',
    name: 'model-registry',
    component: () => import('@/pages/ModelRegistryPage.vue'),
    meta: { title: 'diagnosis.registry.title', requiresAuth: true },
  },
  {
    path: '/find-doctor',
    name: 'find-doctor',
    component: () => import('@/pages/FindDoctorPage.vue'),
    meta: { title: 'matching.find.title', requiresAuth: true },
  },
  {
    path: '/operations/assignment',
    name: 'assignment',
    component: () => import('@/pages/AssignmentPage.vue'),
    meta: { title: 'matching.assignment.title', requiresAuth: true },
  },
  {
    path: '/operations/regions',
    name: 'regions',
    component: () => import('@/pages/RegionsPage.vue'),
    meta: { title: 'matching.regions.title', requiresAuth: true },
  },
  {
    path: '/practice',
    name: 'practice',
    component: () => import('@/pages/PracticePage.vue'),
    meta: { title: 'practitioners.practice.title', requiresAuth: true },
  },
  {
    // Public: a verified doctor's profile is a directory entry.
    path: '/doctors/:id',
    name: 'doctor-profile',
    component: () => import('@/pages/DoctorProfilePage.vue'),
    meta: { title: 'practitioners.profile.title' },
  },
  {
    // Not under /admin/ (the Django admin site's), like /model-registry.
    path: '/licence-review',
    name: 'licence-review',
    component: () => import('@/pages/LicenceReviewPage.vue'),
    meta: { title: 'practitioners.review.title', requiresAuth: true },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('@/pages/NotFoundPage.vue'),
    meta: { title: 'notFound.title' },
  },
]

// The path the tab reloaded for after a page's code failed to load, so it reloads once, not forever.
const RELOADED_FOR = 'yunyi.reloadedFor'

/**
 * A page's code could not be fetched: after a new version is deployed, the chunk names this tab
 * knows are gone (each browser words it its own way).
 */
export function isStaleChunkError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  return /dynamically imported module|Importing a module script failed|Unable to preload CSS/i.test(message)
}

export function createAppRouter(pinia: Pinia, history: RouterHistory = createWebHistory()): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior(to) {
      return to.hash ? { el: to.hash, top: 72 } : { top: 0 }
    },
  })

  router.beforeEach(async (to) => {
    if (to.meta.signInFlow) return true
    const auth = useAuthStore(pinia)
    if (auth.isAuthenticated) return true
    if (to.meta.requiresAuth || wasSignedIn()) {
      await auth.beginSignIn(to.fullPath)
      return false
    }
    return true
  })

  // A stale tab loads the new version of the page it was going to instead of failing silently
  // (or, right after sign-in, showing "sign-in failed").
  router.onError((error, to) => {
    if (!isStaleChunkError(error) || sessionStorage.getItem(RELOADED_FOR) === to.fullPath) return
    sessionStorage.setItem(RELOADED_FOR, to.fullPath)
    browser.assign(to.fullPath)
  })
  router.afterEach((_to, _from, failure) => {
    if (!failure) sessionStorage.removeItem(RELOADED_FOR)
  })

  return router
}
