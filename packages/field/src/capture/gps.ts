/** The reader's position at the meter; a refusal or a timeout never blocks saving — it is recorded. */
export interface Fix {
  status: 'pending' | 'ok' | 'denied' | 'unavailable' | 'timeout' | 'unsupported';
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  at: string | null;
}

export const GPS_TIMEOUT_MS = 15_000;
/** A fix this recent is good enough (the reader walks from door to door). */
export const GPS_MAX_AGE_MS = 60_000;

export const NO_FIX: Fix = { status: 'pending', latitude: null, longitude: null, accuracyM: null, at: null };

export function locate(): Promise<Fix> {
  if (!('geolocation' in navigator)) return Promise.resolve({ ...NO_FIX, status: 'unsupported' });
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) =>
        resolve({
          status: 'ok',
          latitude: Math.round(p.coords.latitude * 1e6) / 1e6,
          longitude: Math.round(p.coords.longitude * 1e6) / 1e6,
          accuracyM: Math.round(p.coords.accuracy),
          at: new Date(p.timestamp).toISOString(),
        }),
      (e) =>
        resolve({
          ...NO_FIX,
          status:
            e.code === e.PERMISSION_DENIED ? 'denied' : e.code === e.TIMEOUT ? 'timeout' : 'unavailable',
        }),
      { enableHighAccuracy: true, timeout: GPS_TIMEOUT_MS, maximumAge: GPS_MAX_AGE_MS },
    );
  });
}
