//! The pods' and runtime classes' types in the recording's encoding (a pod's batch requests,
//! sandbox asks and start), each destructured without `..`.

use clustertop_core::model::{AddedCap, BatchRes, DevShm, KubeletStart, Pod, RuntimeClass, SandboxAsks};

use super::{Codec, Dec, Enc, Result};

impl Codec for BatchRes {
    fn enc(&self, e: &mut Enc) {
        let BatchRes { cpu_m, mem_bytes } = self;
        cpu_m.enc(e);
        mem_bytes.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(BatchRes { cpu_m: Codec::dec(d)?, mem_bytes: Codec::dec(d)? })
    }
}

impl Codec for Pod {
    fn enc(&self, e: &mut Enc) {
        let Pod {
            namespace,
            name,
            node,
            runtime_class,
            priority_class,
            host_network,
            phase,
            offline,
            sandbox,
            batch,
            sandbox_start_s,
        } = self;
        namespace.enc(e);
        name.enc(e);
        node.enc(e);
        runtime_class.enc(e);
        priority_class.enc(e);
        host_network.enc(e);
        phase.enc(e);
        offline.enc(e);
        sandbox.enc(e);
        sandbox_start_s.enc(e);
        batch.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(Pod {
            namespace: Codec::dec(d)?,
            name: Codec::dec(d)?,
            node: Codec::dec(d)?,
            runtime_class: Codec::dec(d)?,
            priority_class: Codec::dec(d)?,
            host_network: Codec::dec(d)?,
            phase: Codec::dec(d)?,
            offline: Codec::dec(d)?,
            sandbox: Codec::dec(d)?,
            sandbox_start_s: Codec::dec(d)?,
            batch: Codec::dec(d)?,
        })
    }
}

impl Codec for KubeletStart {
    fn enc(&self, e: &mut Enc) {
        let KubeletStart { handler, node, mean_s, p50_s, p95_s, samples, errors } = self;
        handler.enc(e);
        node.enc(e);
        mean_s.enc(e);
        p50_s.enc(e);
        p95_s.enc(e);
        samples.enc(e);
        errors.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(KubeletStart {
            handler: Codec::dec(d)?,
            node: Codec::dec(d)?,
            mean_s: Codec::dec(d)?,
            p50_s: Codec::dec(d)?,
            p95_s: Codec::dec(d)?,
            samples: Codec::dec(d)?,
            errors: Codec::dec(d)?,
        })
    }
}

impl Codec for SandboxAsks {
    fn enc(&self, e: &mut Enc) {
        let SandboxAsks {
            host_pid,
            host_ipc,
            share_process_namespace,
            sysctls,
            dev_shm,
            host_paths,
            init_caps,
        } = self;
        host_pid.enc(e);
        host_ipc.enc(e);
        share_process_namespace.enc(e);
        sysctls.enc(e);
        dev_shm.enc(e);
        host_paths.enc(e);
        init_caps.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(SandboxAsks {
            host_pid: Codec::dec(d)?,
            host_ipc: Codec::dec(d)?,
            share_process_namespace: Codec::dec(d)?,
            sysctls: Codec::dec(d)?,
            dev_shm: Codec::dec(d)?,
            host_paths: Codec::dec(d)?,
            init_caps: Codec::dec(d)?,
        })
    }
}

impl Codec for DevShm {
    fn enc(&self, e: &mut Enc) {
        let DevShm { volume, memory, size_limit_bytes } = self;
        volume.enc(e);
        memory.enc(e);
        size_limit_bytes.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(DevShm { volume: Codec::dec(d)?, memory: Codec::dec(d)?, size_limit_bytes: Codec::dec(d)? })
    }
}

impl Codec for AddedCap {
    fn enc(&self, e: &mut Enc) {
        let AddedCap { container, capability } = self;
        container.enc(e);
        capability.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(AddedCap { container: Codec::dec(d)?, capability: Codec::dec(d)? })
    }
}

impl Codec for RuntimeClass {
    fn enc(&self, e: &mut Enc) {
        let RuntimeClass { name, handler, kind, overhead_cpu_m, overhead_mem_bytes, node_selector, pods } =
            self;
        name.enc(e);
        handler.enc(e);
        kind.enc(e);
        overhead_cpu_m.enc(e);
        overhead_mem_bytes.enc(e);
        node_selector.enc(e);
        pods.enc(e);
    }
    fn dec(d: &mut Dec) -> Result<Self> {
        Ok(RuntimeClass {
            name: Codec::dec(d)?,
            handler: Codec::dec(d)?,
            kind: Codec::dec(d)?,
            overhead_cpu_m: Codec::dec(d)?,
            overhead_mem_bytes: Codec::dec(d)?,
            node_selector: Codec::dec(d)?,
            pods: Codec::dec(d)?,
        })
    }
}
