/** Plain shapes of the proto messages the gateway sends and reads (keepCase field names). */
export interface Duration {
  seconds: number;
  nanos: number;
}

export interface DownloadMessage {
  url: string;
  type: 'STANDARD';
  tag?: string;
  application?: string;
  priority: string;
  filtered_query_params: string[];
  request_header: Record<string, string>;
  piece_length?: number;
  timeout?: Duration;
  remote_ip?: string;
  certificate_chain?: Buffer[];
}

export interface HostMessage {
  id: string;
  type: number;
  hostname: string;
  ip: string;
  port: number;
  download_port: number;
  scheduler_cluster_id: number;
  os?: string;
  platform?: string;
  platform_family?: string;
  platform_version?: string;
  kernel_version?: string;
  proxy_port?: number;
  network?: { idc?: string; location?: string } | null;
  build?: { git_version?: string; git_commit?: string; platform?: string } | null;
}

export interface DownloadTaskResponseMessage {
  host_id: string;
  task_id: string;
  peer_id: string;
  response?: 'download_task_started_response' | 'download_piece_finished_response';
  download_task_started_response?: { content_length: number; is_finished: boolean; pieces: unknown[] };
  download_piece_finished_response?: { piece: { number: number; length: number; digest: string } };
}

export const PRIORITIES = ['LEVEL0', 'LEVEL1', 'LEVEL2', 'LEVEL3', 'LEVEL4', 'LEVEL5', 'LEVEL6'];

export const durationFromMs = (ms: number): Duration => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

/** google.protobuf.Timestamp as proto-loader decodes it (longs as numbers). */
export interface TimestampMessage {
  seconds: number;
  nanos: number;
}

/** dfdaemon.v2.StatLocalTaskResponse: what one host holds of a task. */
export interface LocalTaskMessage {
  task_id: string;
  content_length?: number;
  created_at?: TimestampMessage | null;
  updated_at?: TimestampMessage | null;
  finished_at?: TimestampMessage | null;
}
