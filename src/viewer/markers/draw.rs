//! The markers' draw: per chunk and view, one instanced draw of its symbol (a sensor kind's, or a
//! CCTV camera's) with the chunk's
//! instance buffer (centre in the render frame, size, colour, pulse: 32 bytes each), made only
//! when the chunk's instances change. Vertex buffers and the view's bindings only (no storage
//! buffers), so it runs on WebGL2 too. The symbol keeps a steady size on screen, stands on its
//! site, and pulses for an alarm (`shaders/markers.wgsl`).

use std::collections::HashMap;
use std::sync::Arc;

use bevy::asset::uuid_handle;
use bevy::core_pipeline::core_3d::{Transparent3d, TransparentSortingInfo3d};
use bevy::ecs::query::ROQueryItem;
use bevy::ecs::system::SystemParamItem;
use bevy::ecs::system::lifetimeless::{Read, SRes};
use bevy::mesh::{Indices, MeshVertexBufferLayoutRef, MeshVertexBufferLayouts, VertexBufferLayout};
use bevy::pbr::{
    MeshPipeline, MeshPipelineKey, MeshPipelineSystems, SetMeshViewBindGroup, SetMeshViewBindingArrayBindGroup,
    ViewKeyCache,
};
use bevy::prelude::*;
use bevy::render::render_phase::{
    AddRenderCommand, DrawFunctions, PhaseItem, PhaseItemExtraIndex, RenderCommand, RenderCommandResult,
    SetItemPipeline, TrackedRenderPass, ViewSortedRenderPhases,
};
use bevy::render::render_resource::{
    Buffer, BufferInitDescriptor, BufferUsages, IndexFormat, PipelineCache, PrimitiveTopology,
    RenderPipelineDescriptor, SpecializedMeshPipeline, SpecializedMeshPipelineError, SpecializedMeshPipelines,
    VertexAttribute, VertexFormat, VertexStepMode,
};
use bevy::render::renderer::RenderDevice;
use bevy::render::sync_world::{MainEntity, RenderEntity, SyncToRenderWorld};
use bevy::render::view::ExtractedView;
use bevy::render::{Extract, ExtractSchedule, Render, RenderApp, RenderStartup, RenderSystems};

use crate::markers::MarkerInstance;
use crate::protocol::sensors::SensorKind;

const MARKERS_SHADER: Handle<Shader> = uuid_handle!("5a0d6a51-2f2c-4b9e-9a51-3c1f0e6f7a10");

/// What a marker looks like: a sensor kind's symbol or a camera's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbol {
    Sensor(SensorKind),
    Camera,
}

impl Symbol {
    pub const ALL: [Symbol; SensorKind::ALL.len() + 1] = {
        let mut all = [Symbol::Camera; SensorKind::ALL.len() + 1];
        let mut i = 0;
        while i < SensorKind::ALL.len() {
            all[i] = Symbol::Sensor(SensorKind::ALL[i]);
            i += 1;
        }
        all
    };
}

/// A chunk's markers as drawn, in the render frame.
#[derive(Component, Clone)]
#[require(SyncToRenderWorld)]
pub struct MarkerBatch {
    pub symbol: Symbol,
    pub instances: Arc<Vec<MarkerInstance>>,
}

/// The view cameras that draw a chunk.
#[derive(Component, Clone, Default, PartialEq, Debug)]
pub struct MarkerViews(pub Vec<Entity>);

/// Render world: a chunk's instance buffer.
#[derive(Component)]
struct MarkerBuffer {
    symbol: Symbol,
    buffer: Buffer,
    count: u32,
    centre: Vec3,
}

/// Render world: the view cameras that draw a chunk.
#[derive(Component)]
struct ExtractedMarkerViews(Vec<Entity>);

/// Render world: each symbol's mesh.
#[derive(Resource)]
struct Symbols(HashMap<Symbol, SymbolMesh>);

struct SymbolMesh {
    vertices: Buffer,
    indices: Buffer,
    index_count: u32,
}

#[derive(Resource)]
struct MarkerPipeline {
    mesh_pipeline: MeshPipeline,
    /// The symbols' vertex layout (position, normal, UV: the same for every kind).
    layout: MeshVertexBufferLayoutRef,
}

pub struct MarkerDrawPlugin;

impl Plugin for MarkerDrawPlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() {
            let source = include_str!("../../../shaders/markers.wgsl");
            let _ = shaders.insert(&MARKERS_SHADER, Shader::from_wgsl(source, "shaders/markers.wgsl"));
        }
        let Some(render) = app.get_sub_app_mut(RenderApp) else { return };
        render
            .add_render_command::<Transparent3d, DrawMarkers>()
            .init_resource::<SpecializedMeshPipelines<MarkerPipeline>>()
            .add_systems(RenderStartup, init_markers.after(MeshPipelineSystems))
            .add_systems(ExtractSchedule, extract_markers)
            .add_systems(Render, queue_markers.in_set(RenderSystems::QueueMeshes));
    }
}

/// Each symbol's mesh, about 2 units tall around its origin.
fn symbol_mesh(symbol: Symbol) -> Mesh {
    let Symbol::Sensor(kind) = symbol else {
        // A camera: a long box, like a housing on a pole.
        return Cuboid::new(1.0, 1.0, 2.2).into();
    };
    // Low-poly: a symbol is a dozen pixels across, and there may be 100,000 of them in view.
    match kind {
        SensorKind::WaterLevel => Cylinder::new(0.7, 1.8).mesh().resolution(10).build(),
        SensorKind::GasPressure => Cone::new(0.9, 1.8).mesh().resolution(10).build(),
        SensorKind::Pm25 => Sphere::new(0.9).mesh().ico(1).unwrap_or_else(|_| Sphere::new(0.9).into()),
        SensorKind::TrafficFlow => Cuboid::new(1.4, 1.4, 1.4).into(),
        SensorKind::ParkingOccupancy => Cuboid::new(1.8, 0.7, 1.8).into(),
        SensorKind::Noise => Capsule3d::new(0.55, 0.9).mesh().longitudes(10).latitudes(4).build(),
    }
}

fn init_markers(
    mut commands: Commands,
    device: Res<RenderDevice>,
    mesh_pipeline: Res<MeshPipeline>,
    mut layouts: ResMut<MeshVertexBufferLayouts>,
) {
    let mut symbols = HashMap::new();
    let mut layout = None;
    for symbol in Symbol::ALL {
        let mesh = symbol_mesh(symbol);
        layout.get_or_insert_with(|| mesh.get_mesh_vertex_buffer_layout(&mut layouts));
        let indices: Vec<u32> = match mesh.indices() {
            Some(Indices::U32(i)) => i.clone(),
            Some(Indices::U16(i)) => i.iter().map(|i| *i as u32).collect(),
            None => (0..mesh.count_vertices() as u32).collect(),
        };
        let buffer = |label: &'static str, contents: &[u8], usage| {
            device.create_buffer_with_data(&BufferInitDescriptor { label: Some(label), contents, usage })
        };
        let drawn = SymbolMesh {
            vertices: buffer("marker symbol", &mesh.create_packed_vertex_buffer_data(), BufferUsages::VERTEX),
            indices: buffer("marker symbol indices", bytemuck::cast_slice(&indices), BufferUsages::INDEX),
            index_count: indices.len() as u32,
        };
        symbols.insert(symbol, drawn);
    }
    commands.insert_resource(Symbols(symbols));
    if let Some(layout) = layout {
        commands.insert_resource(MarkerPipeline { mesh_pipeline: mesh_pipeline.clone(), layout });
    }
}

/// A chunk as extracted: its render entity, instances and views (with their change ticks).
type ChunkToExtract = (RenderEntity, Ref<'static, MarkerBatch>, Ref<'static, MarkerViews>);

/// Copies each chunk's views, and its instances into a new buffer, when they changed.
fn extract_markers(mut commands: Commands, device: Res<RenderDevice>, batches: Extract<Query<ChunkToExtract>>) {
    for (entity, batch, views) in &batches {
        let mut render = commands.entity(entity);
        if batch.is_changed() {
            if batch.instances.is_empty() {
                render.remove::<MarkerBuffer>();
            } else {
                let n = batch.instances.len() as f32;
                let centre = batch.instances.iter().map(|i| Vec3::from(i.offset_m)).sum::<Vec3>() / n;
                let buffer = device.create_buffer_with_data(&BufferInitDescriptor {
                    label: Some("marker instances"),
                    contents: bytemuck::cast_slice(batch.instances.as_slice()),
                    usage: BufferUsages::VERTEX,
                });
                render.insert(MarkerBuffer {
                    symbol: batch.symbol,
                    buffer,
                    count: batch.instances.len() as u32,
                    centre,
                });
            }
        }
        if views.is_changed() {
            render.insert(ExtractedMarkerViews(views.0.clone()));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn queue_markers(
    draw_functions: Res<DrawFunctions<Transparent3d>>,
    pipeline: Option<Res<MarkerPipeline>>,
    mut pipelines: ResMut<SpecializedMeshPipelines<MarkerPipeline>>,
    cache: Res<PipelineCache>,
    batches: Query<(Entity, &MainEntity, &MarkerBuffer, &ExtractedMarkerViews)>,
    mut phases: ResMut<ViewSortedRenderPhases<Transparent3d>>,
    views: Query<&ExtractedView>,
    view_keys: Res<ViewKeyCache>,
) {
    let Some(pipeline) = pipeline else { return };
    let draw = draw_functions.read().id::<DrawMarkers>();
    for view in &views {
        let (Some(phase), Some(view_key)) =
            (phases.get_mut(&view.retained_view_entity), view_keys.get(&view.retained_view_entity))
        else {
            continue;
        };
        let camera = view.retained_view_entity.main_entity.id();
        let key =
            *view_key | MeshPipelineKey::from_primitive_topology_and_strip_index(PrimitiveTopology::TriangleList, None);
        let Ok(id) = pipelines.specialize(&cache, &pipeline, key, &pipeline.layout) else { continue };
        for (entity, main_entity, buffer, shown) in &batches {
            if !shown.0.contains(&camera) {
                continue;
            }
            phase.add_transient(Transparent3d {
                sorting_info: TransparentSortingInfo3d::Sorted { mesh_center: buffer.centre, depth_bias: 0.0 },
                entity: (entity, *main_entity),
                pipeline: id,
                draw_function: draw,
                distance: 0.0,
                batch_range: 0..1,
                extra_index: PhaseItemExtraIndex::None,
                indexed: true,
            });
        }
    }
}

impl SpecializedMeshPipeline for MarkerPipeline {
    type Key = MeshPipelineKey;

    fn specialize(
        &self,
        key: Self::Key,
        layout: &MeshVertexBufferLayoutRef,
    ) -> Result<RenderPipelineDescriptor, SpecializedMeshPipelineError> {
        let mut descriptor = self.mesh_pipeline.specialize(key, layout)?;
        // Only the view's bindings: the instances carry the placement (no mesh uniform).
        descriptor.layout.truncate(2);
        descriptor.vertex.shader = MARKERS_SHADER;
        let float4 = |offset: u64, shader_location: u32| VertexAttribute {
            format: VertexFormat::Float32x4,
            offset,
            shader_location,
        };
        descriptor.vertex.buffers.push(VertexBufferLayout {
            array_stride: size_of::<MarkerInstance>() as u64,
            step_mode: VertexStepMode::Instance,
            attributes: vec![float4(0, 8), float4(16, 9)],
        });
        if let Some(fragment) = descriptor.fragment.as_mut() {
            fragment.shader = MARKERS_SHADER;
        }
        Ok(descriptor)
    }
}

type DrawMarkers = (SetItemPipeline, SetMeshViewBindGroup<0>, SetMeshViewBindingArrayBindGroup<1>, DrawMarkerInstances);

struct DrawMarkerInstances;

impl<P: PhaseItem> RenderCommand<P> for DrawMarkerInstances {
    type Param = SRes<Symbols>;
    type ViewQuery = ();
    type ItemQuery = Read<MarkerBuffer>;

    fn render<'w>(
        _: &P,
        _: ROQueryItem<'w, '_, Self::ViewQuery>,
        batch: Option<ROQueryItem<'w, '_, Self::ItemQuery>>,
        symbols: SystemParamItem<'w, '_, Self::Param>,
        pass: &mut TrackedRenderPass<'w>,
    ) -> RenderCommandResult {
        let Some(batch) = batch else { return RenderCommandResult::Skip };
        let Some(symbol) = symbols.into_inner().0.get(&batch.symbol) else { return RenderCommandResult::Skip };
        pass.set_vertex_buffer(0, symbol.vertices.slice(..));
        pass.set_vertex_buffer(1, batch.buffer.slice(..));
        pass.set_index_buffer(symbol.indices.slice(..), IndexFormat::Uint32);
        pass.draw_indexed(0..symbol.index_count, 0, 0..batch.count);
        RenderCommandResult::Success
    }
}
