import { NextFunction, Request, Response } from 'express';

/** body-parser failures (bad JSON, oversize bodies) in the API's JSON error shape instead of Express's HTML page. */
export function bodyErrorHandler(limit: number, isConversionApi: (req: Request) => boolean) {
  return (
    err: { type?: string; status?: number; message?: string },
    req: Request,
    res: Response,
    next: NextFunction,
  ): void => {
    if (!err || res.headersSent) return next(err);
    const acceld = isConversionApi(req);
    if (err.type === 'entity.too.large') {
      const message = `request body is larger than ${limit} bytes`;
      res.status(413).json(acceld ? { code: 'ERR_ILLEGAL_PARAMETER', message } : { message });
    } else if (err.type === 'entity.parse.failed') {
      // acceld answers a payload it cannot bind with 400 "invalid webhook payload".
      if (acceld) res.status(400).json({ code: 'ERR_ILLEGAL_PARAMETER', message: 'invalid webhook payload' });
      else res.status(422).json({ errors: `request body is not valid JSON: ${err.message}` });
    } else if (err.status && err.status >= 400 && err.status < 500) {
      const message = err.message ?? 'bad request';
      res.status(err.status).json(acceld ? { code: 'ERR_ILLEGAL_PARAMETER', message } : { message });
    } else {
      next(err);
    }
  };
}
