import { NextFunction, Request, Response } from 'express';

/**
 * One application serves two ports: the conversion port answers only the acceld routes (in
 * acceld's error shape), the main port everything else. Requests are told apart by the
 * local port they arrived on.
 */
export function portPartition(conversionPort: () => number, conversionPrefixes: string[]) {
  const isConversionRoute = (path: string) => conversionPrefixes.some((p) => path === p || path.startsWith(`${p}/`));
  return (req: Request, res: Response, next: NextFunction): void => {
    const onConversionPort = req.socket.localPort === conversionPort();
    if (onConversionPort === isConversionRoute(req.path)) return next();
    if (onConversionPort) {
      res.status(404).json({ code: 'ERR_INVALID_ENDPOINT', message: 'Endpoint not found' });
    } else {
      res.status(404).json({ message: `Cannot ${req.method} ${req.path}` });
    }
  };
}
