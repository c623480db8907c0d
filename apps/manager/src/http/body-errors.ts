import { NextFunction, Request, Response } from 'express';

/** body-parser failures (bad JSON, oversize bodies) in the API's JSON error shape instead of Express's HTML page. */
export function bodyErrorHandler(limit: number) {
  return (err: { type?: string; status?: number; message?: string }, req: Request, res: Response, next: NextFunction): void => {
    if (!err || res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      res.status(413).json({ message: `request body is larger than ${limit} bytes` });
    } else if (err.type === 'entity.parse.failed') {
      res.status(422).json({ errors: `request body is not valid JSON: ${err.message}` });
    } else if (err.status && err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ message: err.message ?? 'bad request' });
    } else {
      next(err);
    }
  };
}
